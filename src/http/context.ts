// What the http layer is given: the core services it translates to, and its settings.
import type { AccountService } from "../core/accounts/service.ts";
import type { AccountModels } from "../core/catalog/account-models.ts";
import type { Catalog, CatalogModel } from "../core/catalog/catalog.ts";
import type { DeploymentService } from "../core/deployments/service.ts";
import type { FileService } from "../core/files/service.ts";
import type { GenerationService } from "../core/generation/service.ts";
import type { IdentityService } from "../core/identity/service.ts";
import type { JobService } from "../core/finetuning/jobs.ts";
import type { Engine, ModelRef, Tracing } from "../core/ports/index.ts";
import type { IngotMetrics } from "./ops/metrics.ts";
import type { UsageService } from "../core/usage/service.ts";
import type { ProjectService } from "../core/accounts/projects.ts";
import type { ConnectionService } from "../core/projects/connections.ts";
import type { DatasetService } from "../core/projects/datasets.ts";
import type { WorkspaceService } from "../core/ml/workspaces.ts";
import type { MarketplaceService } from "../core/ml/marketplace.ts";
import type { OnlineEndpointService } from "../core/ml/online.ts";
import type { MlJobService } from "../core/ml/jobs.ts";
import type { MlModelService } from "../core/ml/models.ts";
import type { ServerlessService } from "../core/ml/serverless.ts";
import type { ContentFilter } from "../core/safety/filter.ts";
import type { ContentSafetyService } from "../core/safety/content-safety.ts";
import type { MlDataService } from "../core/ml/data.ts";
import type { DatastoreService } from "../core/ml/datastores.ts";
import type { BlobService } from "../core/ml/blobs.ts";
import type { CatalogAdmin } from "../models/catalog-admin.ts";
import type { SignInCodes } from "../core/identity/signin-codes.ts";
import type { Readiness } from "../core/deployments/readiness.ts";
import type { RaiPolicyService } from "../core/safety/policies.ts";
import type { RaiBlocklistService } from "../core/safety/blocklists.ts";
import type { ResponseService } from "../core/responses/service.ts";
import type { BatchService } from "../core/batch/service.ts";

export interface AppContext {
  generation: GenerationService;
  /** The account a custom model belongs to; undefined for shared catalog models. */
  modelOwner(ref: ModelRef): string | undefined;
  accounts: AccountService;
  /** Foundry projects under accounts. */
  projects: ProjectService;
  /** The project endpoint's connections (the account's own, and those users add). */
  projectConnections: ConnectionService;
  /** The project endpoint's datasets (uploaded through a SAS on the blob service). */
  projectDatasets: DatasetService;
  /** Azure Machine Learning workspaces (Microsoft.MachineLearningServices). */
  workspaces: WorkspaceService;
  /** Azure ML marketplace subscriptions of workspaces to third-party catalog models. */
  marketplace: MarketplaceService;
  /** Azure ML managed online endpoints and deployments (their keys, traffic and instances). */
  online: OnlineEndpointService;
  /** Azure ML FineTuning jobs: the ML view of fine-tuning jobs of the workspaces' backing accounts. */
  mlJobs: MlJobService;
  /** Azure ML workspace models; resolveModelId finds the fine-tuned model behind one. */
  mlModels: MlModelService;
  /** Azure ML serverless endpoints (their ARM resources, keys and deployments). */
  serverless: ServerlessService;
  /** Azure ML data assets, and `resolve` of any data reference to the bytes behind it. */
  mlData: MlDataService;
  /** Azure ML datastores (each workspace's workspaceblobstore, listSecrets). */
  mlDatastores: DatastoreService;
  /** Ingot's blob service (the Azure Blob REST subset behind datastores). */
  mlBlobs: BlobService;
  deployments: DeploymentService;
  /** Fine-tuning jobs. */
  jobs: JobService;
  /** Uploaded and imported files (datasets, results). */
  files: FileService;
  catalog: Catalog;
  /** The models API's view of the catalog per account (base and custom models). */
  models: AccountModels;
  /** Ingot.Catalog management routes (`ingot models`): register, remove and pull models; absent: not served. */
  catalogAdmin?: CatalogAdmin;
  /** Whether a model's weights are on this machine (the catalog's `weightsStatus`); absent: not reported. */
  weightsStatus?(model: CatalogModel): Promise<{ state: "cached" | "partial" | "missing" | "not-built" | "upstream"; sizeBytes?: number; bytes?: number }>;
  engine: Engine;
  metrics: IngotMetrics;
  /** Content filtering of every generation surface (issue 14); absent: nothing filtered or annotated. */
  safety?: ContentFilter;
  /** The Azure AI Content Safety data plane (/contentsafety): the same classifier, protected material and blocklists. */
  contentSafety?: ContentSafetyService;
  /** Usage history per deployment (Azure Monitor metrics). */
  usage: UsageService;
  /** Tokens, principals and roles (management auth, the token endpoint, data-plane tokens). */
  identity: IdentityService;
  /** One-time codes of the portal sign-in link `ingot up` prints (POST /portal/signin). */
  signInCodes: SignInCodes;
  settings: {
    skipApiVersionCheck: boolean;
    /** Largest accepted request body, bytes; larger gets 413. */
    bodyLimit: number;
  };
  /** Content filtering's configuration: policies (and the effective rules per deployment) and custom blocklists (and matching). */
  rai: { policies: RaiPolicyService; blocklists: RaiBlocklistService };
  /** Stored Responses API responses (previous_response_id, retrieve, input_items). */
  responses: ResponseService;
  /** The Batch API's jobs (core/batch); absent: the batch routes answer 503. */
  batches?: BatchService;
  /** What /readyz answers: the rule is in core/deployments/readiness.ts. */
  readiness(): Readiness;
  /** Redis (rate limits, change notifications) as /readyz reports it to administrators; absent or empty: nothing shared but the database. */
  sharedState?: () => Record<string, unknown>;
  /** Traces of requests (an HTTP server span each), when tracing is on. */
  tracing?: Tracing;
}

declare module "fastify" {
  interface FastifyRequest {
    account: string;
    /** The caller of a management (ARM) or server-status request, authenticated by the pipeline (server.ts). */
    principal: import("../core/identity/types.ts").Principal | undefined;
  }
  interface FastifyContextConfig {
    surface?: import("./errors.ts").Surface;
    /** What a data-plane token needs on the account: "inference" (default) or "authoring" (files, fine-tuning). */
    action?: "inference" | "authoring";
    /** A route of surface "blob" authenticates its own callers (Shared Key, SAS or bearer token); the pipeline calls this, and refuses a blob route without it. */
    authenticate?: (request: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => void | Promise<void>;
    /** A managed online endpoint's scoring route: authenticated by that endpoint's own keys or tokens (ml/online-scoring.ts), not account keys. */
    onlineEndpoint?: boolean;
    /** A serverless endpoint's data plane: authenticated by that endpoint's own keys (ml/serverless-inference.ts), not account keys. */
    serverlessEndpoint?: boolean;
  }
}
