// `ingot ml …`: the Azure Machine Learning commands of `az ml` that Ingot serves — fine-tuning
// jobs from az ml's YAML, serverless endpoints, managed online endpoints and deployments —
// against a running Ingot's Microsoft.MachineLearningServices routes.
import { dispatch } from "../args.ts";
import { ONLINE_DEPLOYMENT_HELP, ONLINE_ENDPOINT_HELP, onlineDeploymentCommands, onlineEndpointCommands, SERVERLESS_HELP, serverlessCommands } from "./ml-endpoints.ts";
import { JOB_HELP, jobCommands } from "./ml-job.ts";

const HELP = `Usage: ingot ml <group> <command> [options]

Azure Machine Learning, as 'az ml' (same commands, flags and YAML files), against a running
Ingot. Every command takes -g RESOURCE_GROUP -w WORKSPACE (create the workspace with
@azure/arm-machinelearning, azure-ai-ml or a PUT of ~/workspaces/{name}).

Groups:
  job                   fine-tuning jobs: create -f job.yaml, show, list, cancel, stream
  serverless-endpoint   serverless API endpoints: create, show, list, delete, get-credentials,
                        regenerate-keys
  online-endpoint       managed online endpoints: create, show, list, update, delete,
                        get-credentials, regenerate-keys, invoke
  online-deployment     their deployments: create, show, list, update, delete, get-logs

Examples:
  ingot ml job create -f job.yaml -g ingot -w my-project --stream
  ingot ml serverless-endpoint create -n my-chat --model-id <model id> -g ingot -w my-project
  ingot ml online-deployment create -f blue.yaml -g ingot -w my-project --all-traffic

Run 'ingot ml <group> --help' for its commands.
`;

export function mlCommand(argv: string[]): Promise<number> {
  return dispatch("ingot ml", argv, HELP, {
    job: (args) => dispatch("ingot ml job", args, JOB_HELP, jobCommands),
    "serverless-endpoint": (args) => dispatch("ingot ml serverless-endpoint", args, SERVERLESS_HELP, serverlessCommands),
    "online-endpoint": (args) => dispatch("ingot ml online-endpoint", args, ONLINE_ENDPOINT_HELP, onlineEndpointCommands),
    "online-deployment": (args) => dispatch("ingot ml online-deployment", args, ONLINE_DEPLOYMENT_HELP, onlineDeploymentCommands),
  });
}
