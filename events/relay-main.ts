import { loadPipelineConfig } from './config.ts';
import { runPipelineRole } from './run-role.ts';

await runPipelineRole('relay', loadPipelineConfig(process.env));
