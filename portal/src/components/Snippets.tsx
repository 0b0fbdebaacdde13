// Endpoints and ready-to-paste code for one deployment: the URLs of every surface that
// reaches it, and curl / Python / JavaScript calls with the real endpoint. The key is an
// environment variable in the code (so a copied snippet never leaks it); the keys panel
// beside it copies the real key.
import { useState } from "react";
import { CopyButton } from "../ui.tsx";

export const AZURE_API_VERSION = "2024-10-21";
export const INFERENCE_API_VERSION = "2024-05-01-preview";

export type DeploymentKind = "chat" | "embeddings" | "completions";

export interface Endpoint {
  surface: string;
  url: string;
  /** How the request names the deployment. */
  selects: string;
  /** What the surface is for, in a few words. */
  note: string;
}

/** The URLs that reach deployment `d` on each of Ingot's surfaces. */
export function endpointsFor(origin: string, project: string, d: string, kind: DeploymentKind): Endpoint[] {
  const op = kind === "embeddings" ? "embeddings" : kind === "completions" ? "completions" : "chat/completions";
  const dep = encodeURIComponent(d);
  const proj = encodeURIComponent(project || "default");
  return [
    {
      surface: "Azure OpenAI",
      url: `${origin}/openai/deployments/${dep}/${op}?api-version=${AZURE_API_VERSION}`,
      selects: "deployment in the URL",
      note: "AzureOpenAI clients (openai SDKs), REST, curl",
    },
    { surface: "OpenAI v1", url: `${origin}/openai/v1/${op}`, selects: `model: "${d}"`, note: "OpenAI clients, base URL …/openai/v1" },
    { surface: "Foundry project", url: `${origin}/api/projects/${proj}/openai/v1/${op}`, selects: `model: "${d}"`, note: `OpenAI clients, base URL …/api/projects/${proj}/openai/v1` },
    {
      surface: "Azure AI model inference",
      url: `${origin}/models/${kind === "embeddings" ? "embeddings" : "chat/completions"}?api-version=${INFERENCE_API_VERSION}`,
      selects: `model: "${d}"`,
      note: "@azure-rest/ai-inference, azure-ai-inference",
    },
  ];
}

export function EndpointsTable({ endpoints }: { endpoints: Endpoint[] }) {
  return (
    <table className="endpoints" data-testid="endpoints">
      <thead>
        <tr>
          <th>Surface</th>
          <th>Endpoint</th>
          <th>Deployment</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {endpoints.map((e) => (
          <tr key={e.surface}>
            <td>
              <b>{e.surface}</b>
              <div className="muted small">{e.note}</div>
            </td>
            <td>
              <code className="url">{e.url}</code>
            </td>
            <td>
              <code>{e.selects}</code>
            </td>
            <td>
              <CopyButton text={e.url} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const KEY_ENV = "AZURE_OPENAI_API_KEY";

/** The code a user pastes to call deployment `d` (the key comes from $AZURE_OPENAI_API_KEY). */
export function snippetsFor(origin: string, d: string, kind: DeploymentKind): { id: string; label: string; code: string }[] {
  const dep = encodeURIComponent(d);
  if (kind === "embeddings") {
    return [
      {
        id: "curl",
        label: "curl",
        code: `curl "${origin}/openai/deployments/${dep}/embeddings?api-version=${AZURE_API_VERSION}" \\
  -H "api-key: $${KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{"input": ["The quick brown fox"]}'`,
      },
      {
        id: "python",
        label: "Python",
        code: `# pip install openai
import os
from openai import AzureOpenAI

client = AzureOpenAI(
    azure_endpoint="${origin}",
    api_key=os.environ["${KEY_ENV}"],
    api_version="${AZURE_API_VERSION}",
)

result = client.embeddings.create(model="${d}", input=["The quick brown fox"])
print(len(result.data[0].embedding))`,
      },
      {
        id: "javascript",
        label: "JavaScript",
        code: `// npm install openai
import { AzureOpenAI } from "openai";

const client = new AzureOpenAI({
  endpoint: "${origin}",
  apiKey: process.env.${KEY_ENV},
  apiVersion: "${AZURE_API_VERSION}",
  deployment: "${d}",
});

const result = await client.embeddings.create({ model: "${d}", input: ["The quick brown fox"] });
console.log(result.data[0].embedding.length);`,
      },
    ];
  }
  return [
    {
      id: "curl",
      label: "curl",
      code: `curl "${origin}/openai/deployments/${dep}/chat/completions?api-version=${AZURE_API_VERSION}" \\
  -H "api-key: $${KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{
    "messages": [
      {"role": "system", "content": "You are a helpful assistant."},
      {"role": "user", "content": "Hello!"}
    ],
    "max_tokens": 50
  }'`,
    },
    {
      id: "python",
      label: "Python",
      code: `# pip install openai
import os
from openai import AzureOpenAI

client = AzureOpenAI(
    azure_endpoint="${origin}",
    api_key=os.environ["${KEY_ENV}"],
    api_version="${AZURE_API_VERSION}",
)

response = client.chat.completions.create(
    model="${d}",  # the deployment name
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Hello!"},
    ],
    max_tokens=50,
)
print(response.choices[0].message.content)`,
    },
    {
      id: "javascript",
      label: "JavaScript",
      code: `// npm install openai
import { AzureOpenAI } from "openai";

const client = new AzureOpenAI({
  endpoint: "${origin}",
  apiKey: process.env.${KEY_ENV},
  apiVersion: "${AZURE_API_VERSION}",
  deployment: "${d}",
});

const response = await client.chat.completions.create({
  model: "${d}",
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Hello!" },
  ],
  max_tokens: 50,
});
console.log(response.choices[0].message.content);`,
    },
    {
      id: "openai-v1",
      label: "OpenAI v1 (JS)",
      code: `// npm install openai — the OpenAI client on the Foundry project endpoint
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${origin}/api/projects/default/openai/v1", apiKey: process.env.${KEY_ENV} });

const response = await client.chat.completions.create({
  model: "${d}",
  messages: [{ role: "user", content: "Hello!" }],
  max_tokens: 50,
});
console.log(response.choices[0].message.content);`,
    },
    {
      id: "ai-inference",
      label: "AI inference (JS)",
      code: `// npm install @azure-rest/ai-inference @azure/core-auth
import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";

const client = ModelClient("${origin}/models", new AzureKeyCredential(process.env.${KEY_ENV})${origin.startsWith("http:") ? ", { allowInsecureConnection: true } /* plain http: the SDK sends keys over it only when asked */" : ""});

const response = await client.path("/chat/completions").post({
  body: { model: "${d}", messages: [{ role: "user", content: "Hello!" }], max_tokens: 50 },
});
if (isUnexpected(response)) throw response.body.error;
console.log(response.body.choices[0].message.content);`,
    },
  ];
}

/** Tabs of snippets with a copy button; `keyHint` tells where the key comes from. */
export function Snippets({ origin, deployment, kind }: { origin: string; deployment: string; kind: DeploymentKind }) {
  const snippets = snippetsFor(origin, deployment, kind);
  const [tab, setTab] = useState(snippets[0].id);
  const current = snippets.find((s) => s.id === tab) ?? snippets[0];
  return (
    <div className="snippets" data-testid="snippets">
      <div className="tabs" role="tablist">
        {snippets.map((s) => (
          <button key={s.id} type="button" role="tab" aria-selected={s.id === current.id} onClick={() => setTab(s.id)}>
            {s.label}
          </button>
        ))}
        <span className="spacer" />
        <CopyButton text={current.code} label="Copy code" />
      </div>
      <pre data-testid={`snippet-${current.id}`}>{current.code}</pre>
      <p className="muted small">
        Set <code>{KEY_ENV}</code> to one of the keys above first, e.g. <code>export {KEY_ENV}=…</code> (use Copy next to a key).
      </p>
    </div>
  );
}
