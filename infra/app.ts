/**
 * The CDK app (cdk.json runs it with tsx): one stack for the stage the context names, checked by cdk-nag's
 * AwsSolutions and Serverless packs on every synth.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, deployConfigFrom } from './config.js';
import { addNagChecks } from './nag.js';
import { RetrostrideStack, stackNameOf } from './stack.js';

export function createApp(app = new App()): { app: App; stack: RetrostrideStack } {
  const config = deployConfigFrom(app.node);
  const stack = new RetrostrideStack(app, stackNameOf(config), {
    config,
    // Account and region of the CLI's credentials when there are any; environment-agnostic otherwise.
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  addNagChecks(app);
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    createApp().app.synth();
  } catch (error) {
    // A mistake in the context is the user's: one line, not a stack trace.
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
