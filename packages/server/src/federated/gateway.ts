/**
 * `linktrace gateway`: the federated read side (DESIGN §8). Keeps the agent directory from the
 * agents' heartbeats and answers trace queries by walking the agents; stores no spans.
 */
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { AgentDirectory, DEFAULT_MAX_AGENTS, WALK_DEFAULTS } from '@linktrace/storage';
import { ConfigError, parseDuration, parseInteger, parseSize } from '../config.js';
import { locateUiDir } from '../ui/ui-dir.js';
import { buildGatewayApp, type GatewayAppOptions } from './gateway-app.js';

export interface GatewayFlags {
  port?: string;
  host?: string;
  hopTimeout?: string;
  walkTimeout?: string;
  maxAgents?: string;
  maxWalkAgents?: string;
  maxWalkSpans?: string;
  maxAnswerSize?: string;
  token?: string;
  agentToken?: string;
  deadline?: string;
  slowChain?: string;
  ui?: string | boolean;
}

export interface GatewayOptions {
  port: number;
  host: string;
  maxAgents: number;
  app: Omit<GatewayAppOptions, 'directory'>;
}

export const GATEWAY_DEFAULTS = { port: '4320', host: '127.0.0.1', hopTimeout: '2s', walkTimeout: '10s', maxAnswerSize: '64mb' } as const;

export function parseGatewayFlags(flags: GatewayFlags, env: NodeJS.ProcessEnv = {}): GatewayOptions {
  const host = flags.host ?? GATEWAY_DEFAULTS.host;
  if (host.trim() === '') throw new ConfigError('--host: must not be empty');
  const hopTimeoutMs = parseDuration(flags.hopTimeout ?? GATEWAY_DEFAULTS.hopTimeout, '--hop-timeout');
  const walkTimeoutMs = parseDuration(flags.walkTimeout ?? GATEWAY_DEFAULTS.walkTimeout, '--walk-timeout');
  if (hopTimeoutMs < 1) throw new ConfigError('--hop-timeout: must be at least 1ms');
  if (walkTimeoutMs < hopTimeoutMs) throw new ConfigError('--walk-timeout: must not be shorter than --hop-timeout');
  const token = flags.token ?? env.LINKTRACE_TOKEN;
  if (token !== undefined && (token === '' || /\s/.test(token))) throw new ConfigError('--token: must be non-empty and without spaces');
  const agentToken = flags.agentToken ?? env.LINKTRACE_AGENT_TOKEN;
  const uiDir = flags.ui === false ? false : typeof flags.ui === 'string' ? resolve(flags.ui) : locateUiDir();
  const check: GatewayAppOptions['check'] = {};
  if (flags.deadline !== undefined) check.deadlineMs = parseDuration(flags.deadline, '--deadline');
  if (flags.slowChain !== undefined) check.slowChainObjectiveMs = parseDuration(flags.slowChain, '--slow-chain');
  return {
    port: parseInteger(flags.port ?? GATEWAY_DEFAULTS.port, '--port', 0, 65535),
    host,
    maxAgents: flags.maxAgents === undefined ? DEFAULT_MAX_AGENTS : parseInteger(flags.maxAgents, '--max-agents', 1, 1_000_000),
    app: {
      hopTimeoutMs,
      walkTimeoutMs,
      maxAgentsPerWalk: flags.maxWalkAgents === undefined ? WALK_DEFAULTS.maxAgents : parseInteger(flags.maxWalkAgents, '--max-walk-agents', 1, 1_000_000),
      maxSpans: flags.maxWalkSpans === undefined ? WALK_DEFAULTS.maxSpans : parseInteger(flags.maxWalkSpans, '--max-walk-spans', 1, 10_000_000),
      maxAnswerBytes: parseSize(flags.maxAnswerSize ?? GATEWAY_DEFAULTS.maxAnswerSize, '--max-answer-size'),
      ...(token === undefined ? {} : { token }),
      ...(agentToken === undefined ? {} : { agentToken }),
      uiDir,
      check,
    },
  };
}

export interface RunningGateway {
  app: FastifyInstance;
  directory: AgentDirectory;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions, clock: () => number = Date.now): Promise<RunningGateway> {
  const directory = new AgentDirectory(clock, options.maxAgents);
  const app = await buildGatewayApp({ ...options.app, directory, clock });
  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  return { app, directory, url, close: () => app.close() };
}

export function register(program: Command): void {
  program
    .command('gateway')
    .description('federated mode: keep the agent directory and answer trace queries by walking the agents hop by hop')
    .option('--port <port>', 'port to listen on (0 picks a free one)', GATEWAY_DEFAULTS.port)
    .option('--host <host>', 'address to listen on', GATEWAY_DEFAULTS.host)
    .option('--hop-timeout <duration>', 'longest wait for one agent\'s answer', GATEWAY_DEFAULTS.hopTimeout)
    .option('--walk-timeout <duration>', 'longest walk of one trace', GATEWAY_DEFAULTS.walkTimeout)
    .option('--max-agents <n>', `most agents in the directory (default ${DEFAULT_MAX_AGENTS})`)
    .option('--max-walk-agents <n>', `most agents one walk asks (default ${WALK_DEFAULTS.maxAgents})`)
    .option('--max-walk-spans <n>', `most spans one walk keeps (default ${WALK_DEFAULTS.maxSpans})`)
    .option('--max-answer-size <size>', 'largest answer read from one agent', GATEWAY_DEFAULTS.maxAnswerSize)
    .option('--token <token>', 'require Authorization: Bearer <token> on the API, heartbeats included (or set LINKTRACE_TOKEN)')
    .option('--agent-token <token>', 'token to send to the agents when reading spans (or set LINKTRACE_AGENT_TOKEN)')
    .option('--deadline <duration>', 'rule deadline of the on-demand chain check')
    .option('--slow-chain <duration>', 'slow-chain objective of the on-demand chain check')
    .option('--ui <dir>', 'serve the web UI from this directory (default: the built packages/web)')
    .option('--no-ui', 'do not serve the web UI')
    .action(async (flags: GatewayFlags) => {
      let options: GatewayOptions;
      try {
        options = parseGatewayFlags(flags, process.env);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`linktrace gateway: ${error.message}\n`);
        process.exit(2);
      }
      let running: RunningGateway | undefined;
      const stop = (signal: NodeJS.Signals): void => {
        process.stdout.write(`linktrace gateway: ${signal}: shutting down\n`);
        void (running?.close() ?? Promise.resolve()).then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        running = await startGateway(options);
      } catch (error) {
        process.stderr.write(`linktrace gateway: could not start: ${(error as Error).message}\n`);
        process.exit(1);
      }
      process.stdout.write(
        [
          `linktrace gateway: listening on ${running.url}`,
          `  agents     POST ${running.url}/api/v1/agents (heartbeats)   GET ${running.url}/api/v1/agents`,
          `  traces     ${running.url}/api/v1/traces/{id}   ${running.url}/api/v2/trace/{id} (Zipkin)`,
          `  walk       ${options.app.hopTimeoutMs} ms per hop, ${options.app.walkTimeoutMs} ms per walk, at most ${options.app.maxAgentsPerWalk} agents`,
          `  web UI     ${options.app.uiDir === false ? 'off (--no-ui)' : `${running.url}/`}`,
        ].join('\n') + '\n',
      );
    });
}
