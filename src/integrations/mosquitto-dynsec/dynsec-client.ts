import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** Where the plugin listens and answers (docs/broker-protocols.md#dynsec-command-topics). */
export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const RESPONSE_TOPIC = '$CONTROL/dynamic-security/v1/response';

/** Commands per MQTT message: the plugin handles a list in order; chunks keep each reply small. */
const COMMANDS_PER_MESSAGE = 100;

/** One dynamic-security command (`command` plus its arguments). */
export interface DynsecCommand {
  readonly command: string;
  readonly [argument: string]: unknown;
}

/** One entry of the plugin's `responses` list. Success = no `error`. */
export interface DynsecResponse {
  readonly command: string;
  readonly correlationData?: string;
  readonly error?: string;
  readonly data?: Record<string, unknown>;
}

/** The plugin refused a command (`error` in its response), or never answered. */
export class DynsecError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'DynsecError';
  }
}

export interface DynsecClientOptions {
  /** `mqtt://host:port` or `mqtts://host:port`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** How long a command may wait for its response. */
  readonly timeoutMs: number;
  /** Verify the broker's TLS certificate (mqtts only). */
  readonly rejectUnauthorized: boolean;
  /** Delay between reconnection attempts; 0 = connect once (CLI). */
  readonly reconnectPeriodMs: number;
  /** Called whenever the admin session is (re)established and subscribed to the response topic. */
  readonly onReady?: () => void;
  /** Called when the connection is lost or refused. */
  readonly onDown?: (error: Error | null) => void;
}

interface Waiter {
  readonly command: string;
  resolve(response: DynsecResponse): void;
  reject(error: Error): void;
}

/**
 * The admin session to Mosquitto's dynamic-security plugin (docs/broker-protocols.md#dynsec-command-topics)
 * over mqtt.js: subscribes to the response topic, sends commands with a unique `correlationData` each and
 * matches the responses (the plugin publishes every reply to every subscriber, so other admins' replies are
 * ignored). A command without a reply within `timeoutMs` fails. Command arguments can hold passwords: nothing
 * here logs them.
 */
export class DynsecClient {
  readonly #client: MqttClient;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, Waiter>();
  readonly #prefix = randomBytes(6).toString('base64url');
  #sequence = 0;
  #ready = false;
  #closing = false;

  private constructor(options: DynsecClientOptions) {
    this.#timeoutMs = options.timeoutMs;
    const clientOptions: IClientOptions = {
      username: options.username,
      password: options.password,
      clientId: `warden-dynsec-${this.#prefix}`,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: options.reconnectPeriodMs,
      connectTimeout: options.timeoutMs,
      rejectUnauthorized: options.rejectUnauthorized,
      resubscribe: false,
    };
    this.#client = mqtt.connect(options.url, clientOptions);
    this.#client.on('connect', () => {
      this.#client.subscribe(RESPONSE_TOPIC, { qos: 0 }, (error, granted) => {
        if (error || granted?.[0]?.qos === 128) {
          options.onDown?.(
            new Error(`cannot subscribe to ${RESPONSE_TOPIC}: is this user the dynsec admin?`),
          );
          return;
        }
        this.#ready = true;
        options.onReady?.();
      });
    });
    this.#client.on('message', (_topic, payload) => this.#onResponse(payload));
    const down = (error: Error | null): void => {
      const wasReady = this.#ready;
      this.#ready = false;
      this.#failAll(
        new Error(error ? `connection to Mosquitto lost: ${error.message}` : 'connection to Mosquitto lost'),
      );
      if ((wasReady || error) && !this.#closing) options.onDown?.(error);
    };
    this.#client.on('close', () => down(null));
    this.#client.on('error', (error) => down(error));
  }

  /** Starts connecting; readiness is announced through `onReady`. */
  static connect(options: DynsecClientOptions): DynsecClient {
    return new DynsecClient(options);
  }

  /** Whether the admin session is up and subscribed to the responses. */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Sends commands (in order, in as few messages as sensible) and resolves with their responses in the same
   * order. Rejects when the session is down or a response does not arrive in time; a response carrying
   * `error` is returned as is (callers decide whether "not found" matters).
   */
  async execute(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const responses: DynsecResponse[] = [];
    for (let start = 0; start < commands.length; start += COMMANDS_PER_MESSAGE) {
      responses.push(...(await this.#send(commands.slice(start, start + COMMANDS_PER_MESSAGE))));
    }
    return responses;
  }

  /** Closes the session; pending commands fail. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#failAll(new Error('the Mosquitto session was closed'));
    await this.#client.endAsync(true);
  }

  #send(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    if (!this.#ready) return Promise.reject(new Error('not connected to Mosquitto'));
    const ids: string[] = [];
    const pending = commands.map((command) => {
      const id = `${this.#prefix}-${++this.#sequence}`;
      ids.push(id);
      return new Promise<DynsecResponse>((resolve, reject) => {
        this.#waiting.set(id, { command: command.command, resolve, reject });
      });
    });
    const payload = JSON.stringify({
      commands: commands.map((command, index) => ({ ...command, correlationData: ids[index] })),
    });
    const timer = setTimeout(() => {
      for (const id of ids) {
        const waiter = this.#waiting.get(id);
        if (!waiter) continue;
        this.#waiting.delete(id);
        waiter.reject(
          new DynsecError(
            waiter.command,
            `no response from Mosquitto within ${this.#timeoutMs} ms (command ${waiter.command}); ` +
              `is the dynamic-security plugin loaded and may this user publish to ${CONTROL_TOPIC}?`,
          ),
        );
      }
    }, this.#timeoutMs);
    this.#client.publish(CONTROL_TOPIC, payload, { qos: 0 }, (error) => {
      if (!error) return;
      for (const id of ids) this.#reject(id, error);
    });
    return Promise.all(pending).finally(() => clearTimeout(timer));
  }

  #onResponse(payload: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const responses = (parsed as { responses?: unknown }).responses;
    if (!Array.isArray(responses)) return;
    for (const response of responses as DynsecResponse[]) {
      const id = response?.correlationData;
      if (typeof id !== 'string') continue;
      const waiter = this.#waiting.get(id);
      if (!waiter) continue;
      this.#waiting.delete(id);
      waiter.resolve(response);
    }
  }

  #reject(id: string, error: Error): void {
    const waiter = this.#waiting.get(id);
    if (!waiter) return;
    this.#waiting.delete(id);
    waiter.reject(error);
  }

  #failAll(error: Error): void {
    for (const id of [...this.#waiting.keys()]) this.#reject(id, error);
  }
}
