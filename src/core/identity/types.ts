// Identity vocabulary shared by the token issuer, the ARM layer and data-plane auth.

/** Who is calling: a user (the local admin) or a service principal, in one tenant. */
export interface Principal {
  tenantId: string;
  objectId: string;
  kind: "user" | "servicePrincipal";
  /** Service principals only: the client id used at the token endpoint. */
  appId?: string;
  displayName: string;
}

/** Built-in roles, named as in Azure RBAC. */
export type RoleName =
  | "Owner"
  | "Contributor"
  | "Reader"
  | "Cognitive Services OpenAI Contributor"
  | "Cognitive Services OpenAI User";

/**
 * What a call needs: `read` (GET on ARM), `accountWrite` (PUT/PATCH/DELETE of accounts),
 * `deploymentWrite` (PUT/PATCH/DELETE of deployments), `listKeys` (listKeys/regenerateKey),
 * `inference` (data plane: chat, completions, embeddings), `authoring` (data plane: files,
 * fine-tuning jobs). Owner/Contributor: all; OpenAI Contributor: all but accountWrite and
 * listKeys; OpenAI User: read and inference; Reader: read.
 */
export type Action = "read" | "accountWrite" | "deploymentWrite" | "listKeys" | "inference" | "authoring";

/** Which API a token is for, from its `aud` claim. */
export type Audience = "management" | "cognitiveservices" | "storage";

export interface RoleAssignment {
  id: string;
  principalId: string;
  role: RoleName;
  /** An ARM id prefix: "/", "/subscriptions/{s}", "/subscriptions/{s}/resourceGroups/{rg}", or an account id. */
  scope: string;
  createdAt: number;
}
