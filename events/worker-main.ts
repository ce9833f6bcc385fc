import { loadPipelineConfig } from './config.ts';
import { runPipelineRole } from './run-role.ts';

await runPipelineRole('worker', loadPipelineConfig(process.env));
