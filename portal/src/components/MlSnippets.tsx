// Ready-to-paste code for Azure ML endpoints. Serverless: seed 004's Python `requests` call
// (`Authorization: <key>`, no "Bearer", at `{uri}/v1/chat/completions`), curl, and the openai
// SDKs with base URL `{uri}/v1`. Online: a chat-completions body POSTed to the scoringUri with
// `Authorization: Bearer <key>` and the optional `azureml-model-deployment` pin. The key is an
// environment variable in the code (a copied snippet never leaks it); the keys panel copies it.
import { useState } from "react";
import { CopyButton } from "../ui.tsx";

export interface Snippet {
  id: string;
  label: string;
  code: string;
}

export const SERVERLESS_KEY_ENV = "AZURE_ML_ENDPOINT_KEY";
export const ONLINE_KEY_ENV = "AZURE_ML_ONLINE_KEY";

export function serverlessSnippets(uri: string, model: string): Snippet[] {
  return [
    {
      id: "python-requests",
      label: "Python (requests)",
      code: `# pip install requests
import os
import requests

url = "${uri}/v1/chat/completions"
payload = {
    "max_tokens": 50,
    "messages": [
        {"role": "user", "content": "Hello!"},
    ],
}
headers = {"Content-Type": "application/json", "Authorization": os.environ["${SERVERLESS_KEY_ENV}"]}

response = requests.post(url, json=payload, headers=headers)
print(response.json())`,
    },
    {
      id: "curl",
      label: "curl",
      code: `curl "${uri}/v1/chat/completions" \\
  -H "Authorization: $${SERVERLESS_KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 50}'`,
    },
    {
      id: "openai-python",
      label: "OpenAI (Python)",
      code: `# pip install openai
import os
from openai import OpenAI

client = OpenAI(base_url="${uri}/v1", api_key=os.environ["${SERVERLESS_KEY_ENV}"])

response = client.chat.completions.create(
    model="${model}",  # the endpoint serves one model; the name is informational
    messages=[{"role": "user", "content": "Hello!"}],
    max_tokens=50,
)
print(response.choices[0].message.content)`,
    },
    {
      id: "openai-js",
      label: "OpenAI (JS)",
      code: `// npm install openai
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${uri}/v1", apiKey: process.env.${SERVERLESS_KEY_ENV} });

const response = await client.chat.completions.create({
  model: "${model}",
  messages: [{ role: "user", content: "Hello!" }],
  max_tokens: 50,
});
console.log(response.choices[0].message.content);`,
    },
  ];
}

export function onlineSnippets(scoringUri: string, deployments: string[]): Snippet[] {
  const pin = deployments[0];
  return [
    {
      id: "curl",
      label: "curl",
      code: `curl "${scoringUri}" \\
  -H "Authorization: Bearer $${ONLINE_KEY_ENV}" \\
  -H "Content-Type: application/json" \\
  -d '{"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 50}'${
    pin
      ? `

# Pin one deployment instead of following the traffic split:
curl "${scoringUri}" \\
  -H "Authorization: Bearer $${ONLINE_KEY_ENV}" \\
  -H "azureml-model-deployment: ${pin}" \\
  -H "Content-Type: application/json" \\
  -d '{"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 50}'`
      : ""
  }`,
    },
    {
      id: "python-requests",
      label: "Python (requests)",
      code: `# pip install requests
import os
import requests

headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["${ONLINE_KEY_ENV}"]}
${pin ? `# headers["azureml-model-deployment"] = "${pin}"  # pin one deployment\n` : ""}payload = {"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 50}

response = requests.post("${scoringUri}", json=payload, headers=headers)
print(response.json())`,
    },
  ];
}

/** Tabs of snippets with a copy button. */
export function CodeTabs({ snippets, keyEnv }: { snippets: Snippet[]; keyEnv: string }) {
  const [tab, setTab] = useState(snippets[0].id);
  const current = snippets.find((s) => s.id === tab) ?? snippets[0];
  return (
    <div className="snippets" data-testid="snippets">
      <div className="tabs" role="tablist" aria-label="Code samples">
        {snippets.map((s) => (
          <button key={s.id} type="button" role="tab" aria-selected={s.id === current.id} onClick={() => setTab(s.id)}>
            {s.label}
          </button>
        ))}
        <span className="spacer" />
        <CopyButton text={current.code} label="Copy code" />
      </div>
      <pre data-testid={`snippet-${current.id}`} tabIndex={0} aria-label={`${current.label} code`}>
        {current.code}
      </pre>
      <p className="muted small">
        Set <code>{keyEnv}</code> to one of the keys above first, e.g. <code>export {keyEnv}=…</code> (use Copy next to a key).
      </p>
    </div>
  );
}
