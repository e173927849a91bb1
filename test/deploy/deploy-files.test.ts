import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../lib/config.js';
import { HealthMonitor } from '../../lib/health/health-monitor.js';
import { healthRoutes } from '../../lib/health/health-routes.js';
import { createReadiness } from '../../lib/process/readiness.js';

/**
 * The Dockerfile and docker-compose.yml cannot be built here (no base images), so they are held
 * to what is tested: the npm commands they run are package.json scripts, the image starts the
 * service exactly as `npm start` and PM2 do, and the health check probes a route that exists.
 */

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const instructions = dockerfile.getInstructions();

/** The instructions of each stage, by stage name. */
function stages(): Map<string, Instruction[]> {
  const byStage = new Map<string, Instruction[]>();
  let current: Instruction[] = [];
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') {
      current = [];
      byStage.set(instruction.getArguments()[2]?.getValue() ?? `stage-${byStage.size}`, current);
    }
    current.push(instruction);
  }
  return byStage;
}

const runCommands = (list: Instruction[]) =>
  list
    .filter((instruction) => instruction.getKeyword() === 'RUN')
    .flatMap((instruction) => (instruction.getArgumentsContent() ?? '').split(/&&|\\\n/).map((part) => part.trim()));

/** The shell commands of an npm script, split on `&&`. */
const commandsOf = (script: string) => script.split('&&').map((part) => part.trim());

describe('Dockerfile', () => {
  const byStage = stages();

  it('is multi-stage: a toolchain for npm ci, a build, production dependencies and a slim runtime', () => {
    expect([...byStage.keys()]).toEqual(['toolchain', 'build', 'deps', 'runtime']);
    // better-sqlite3 builds from source wherever npm ci runs.
    const toolchain = runCommands(byStage.get('toolchain')!).join(' ');
    for (const tool of ['python3', 'make', 'g++']) expect(toolchain).toContain(tool);
  });

  it('runs only npm commands that package.json defines, the production install with --omit=dev', () => {
    const npmCommands = runCommands(instructions).filter((command) => command.startsWith('npm '));
    expect(npmCommands).toEqual(['npm ci', 'npm run build', 'npm ci --omit=dev']);
    for (const command of npmCommands) {
      const script = /^npm run ([\w:-]+)/.exec(command)?.[1];
      if (script !== undefined) expect(Object.keys(scripts)).toContain(script);
    }
    expect(runCommands(byStage.get('deps')!)).toContain('npm ci --omit=dev');
    // The runtime stage installs and compiles nothing.
    expect(runCommands(byStage.get('runtime')!).join(' ')).not.toMatch(/npm|apt-get/);
  });

  it('starts the service as npm start and PM2 do, as a user that is not root', async () => {
    const runtime = byStage.get('runtime')!;
    const cmd = runtime.filter((instruction) => instruction.getKeyword() === 'CMD').at(-1)!;
    const argv = JSON.parse(cmd.getArgumentsContent() ?? '[]') as string[];
    const { apps } = (await import(join(root, 'ecosystem.config.js'))) as {
      apps: Array<{ script: string; node_args: string[] }>;
    };
    expect(argv).toEqual(['node', ...apps[0]!.node_args, apps[0]!.script]);
    const withoutFlags = argv.filter((part) => !part.startsWith('--')).join(' ');
    expect(commandsOf(scripts.start!).at(-1)).toBe(withoutFlags);

    const user = runtime.filter((instruction) => instruction.getKeyword() === 'USER').at(-1);
    expect(user?.getArgumentsContent()).toBeDefined();
    expect(['root', '0']).not.toContain(user?.getArgumentsContent());
  });

  it('listens on every interface in production and keeps the SQLite store in its volume', () => {
    const runtime = byStage.get('runtime')!;
    const env = runtime
      .filter((instruction) => instruction.getKeyword() === 'ENV')
      .map((instruction) => instruction.getArgumentsContent() ?? '')
      .join(' ');
    const imageEnvironment = Object.fromEntries([...env.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1], match[2]]));
    // What an operator adds at `docker run` (production requires them).
    const credentials = {
      FEISHU_APP_ID: 'cli_0123456789abcdef',
      FEISHU_APP_SECRET: 'secret',
      FEISHU_ENCRYPT_KEY: 'key',
      MODEL: 'gpt-4o-mini',
      OPENAI_API_KEY: 'sk-test',
    };
    const config = loadConfig({ ...credentials, ...imageEnvironment });
    expect(config).toMatchObject({ nodeEnv: 'production', host: '0.0.0.0', port: 3000 });
    const volume = runtime.find((instruction) => instruction.getKeyword() === 'VOLUME')?.getArgumentsContent() ?? '';
    const volumePath = (JSON.parse(volume) as string[])[0]!;
    expect(config.store.url).toBe(`sqlite:${volumePath}/bot.db`);
  });

  it('health-checks /health/live, a route that answers without checking any dependency', async () => {
    const healthcheck = dockerfile.getHEALTHCHECKs().at(-1);
    expect(healthcheck?.getArgumentsContent()).toContain('/health/live');
    const app = healthRoutes({ monitor: new HealthMonitor(), readiness: createReadiness(), startedAt: Date.now() });
    expect((await app.request('/health/live')).status).toBe(200);
  });

  it('copies only files that exist, and never .env', () => {
    for (const copy of dockerfile.getCOPYs()) {
      // From another stage: not a file of the repository.
      if (copy.getFlags().some((flag) => flag.getName() === 'from')) continue;
      const sources = copy
        .getArguments()
        .slice(0, -1)
        .map((argument) => argument.getValue());
      for (const source of sources) expect(existsSync(join(root, source)), source).toBe(true);
    }
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'node_modules', 'dist', 'data']) expect(ignored).toContain(entry);
  });
});

describe('docker-compose.yml', () => {
  const compose = parseYaml(read('docker-compose.yml')) as {
    services: Record<string, Record<string, unknown>>;
  };

  it('runs the image with Redis as its store, once Redis answers', () => {
    const bot = compose.services.bot!;
    expect(bot.build).toBe('.');
    const environment = bot.environment as Record<string, string>;
    expect(loadConfig(environment).store.url).toBe('redis://redis:6379');
    expect(bot.depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    expect(bot.ports).toEqual([`${environment.PORT}:${environment.PORT}`]);
  });

  it('keeps what Redis accepted (append-only file, no eviction)', () => {
    const command = (compose.services.redis!.command as string[]).join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(compose.services.redis!.volumes).toEqual(['redis-data:/data']);
  });

  it('gives the drain more time than SHUTDOWN_TIMEOUT_MS before Docker kills the bot', () => {
    const grace = /^(\d+)s$/.exec(String(compose.services.bot!.stop_grace_period))?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(loadConfig({}).shutdownTimeoutMs);
  });
});

describe('PM2 npm scripts', () => {
  it('use the pm2 of this package with ecosystem.config.js and the app it names', async () => {
    const { apps } = (await import(join(root, 'ecosystem.config.js'))) as { apps: Array<{ name: string }> };
    expect(scripts['pm2:start']).toMatch(/&& pm2 start ecosystem\.config\.js --env production$/);
    expect(scripts['pm2:reload']).toMatch(/&& pm2 reload ecosystem\.config\.js --env production$/);
    expect(scripts['pm2:stop']).toBe('pm2 stop ecosystem.config.js');
    expect(scripts['pm2:logs']).toBe(`pm2 logs ${apps[0]!.name}`);
    // pm2 is a dependency, so npm scripts (and npx) find it without a global install.
    const { dependencies } = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(dependencies)).toContain('pm2');
  });
});
