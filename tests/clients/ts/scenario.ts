// A TypeScript client from openapi-typescript + openapi-fetch, used as a developer
// would. Run by ../clients.test.mjs against the real server (fake LLM, a daily
// bot limit of 3); BASE_URL and SUFFIX come from the environment. `tsc --noEmit`
// checks it against the generated types first, so a spec change that breaks
// callers fails here too.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

type ErrorBody = components['schemas']['ErrorBody'];
type Message = components['schemas']['Message'];

const BASE = process.env.BASE_URL!;
const SUFFIX = process.env.SUFFIX ?? 'ts';

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`FAILED: ${what}`);
  console.log(`ok - ${what}`);
}

function clientFor(token?: string) {
  const client = createClient<paths>({ baseUrl: BASE });
  if (token) {
    const auth: Middleware = {
      onRequest({ request }) {
        request.headers.set('Authorization', `Bearer ${token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

async function signup(name: string) {
  const anonymous = clientFor();
  const created = await anonymous.POST('/api/v1/auth/register', {
    body: { username: name, password: 'correct horse battery' },
  });
  check(created.response.status === 201 && created.data, `register ${name} -> 201`);
  const tokens = await anonymous.POST('/api/v1/auth/login', {
    body: { username: name, password: 'correct horse battery' },
  });
  check(tokens.data?.token_type === 'Bearer', `login ${name}`);
  return { client: clientFor(tokens.data.access_token), me: created.data.user };
}

/** Reads a text/event-stream body as it arrives: yields [event, data]. */
async function* sse(body: ReadableStream<Uint8Array>): AsyncGenerator<[string, any]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (data) yield [name, JSON.parse(data)];
    }
  }
}

const alice = await signup(`alice_${SUFFIX}`);
const bob = await signup(`bob_${SUFFIX}`);

const request = await alice.client.POST('/api/v1/friends', { body: { username: bob.me.username } });
check(request.data?.status === 'outgoing', 'friend request is outgoing');
const accepted = await bob.client.POST('/api/v1/friends/{user_id}/accept', {
  params: { path: { user_id: alice.me.id } },
});
check(accepted.data?.status === 'accepted', 'bob accepts');
const direct = await alice.client.POST('/api/v1/chats', { body: { kind: 'direct', user_id: bob.me.id } });
check(direct.data?.kind === 'direct' && direct.data.level === null, 'direct chat created, no level');
check(direct.data.peer?.id === bob.me.id, 'its peer is bob');
const chatId = direct.data.id;

for (let i = 0; i < 5; i += 1) {
  const posted = await alice.client.POST('/api/v1/chats/{id}/messages', {
    params: { path: { id: chatId } },
    body: { content: `message ${i}` },
  });
  check(posted.response.status === 201, `message ${i} posted`);
}
const first = await bob.client.GET('/api/v1/chats/{id}/messages', {
  params: { path: { id: chatId }, query: { limit: 3 } },
});
check(first.data?.items.map((m: Message) => m.content).join() === 'message 4,message 3,message 2', 'first page');
const second = await bob.client.GET('/api/v1/chats/{id}/messages', {
  params: { path: { id: chatId }, query: { limit: 3, cursor: first.data.next_cursor ?? undefined } },
});
check(second.data?.items.length === 2 && second.data.next_cursor === null, 'second and last page');

const chats = await bob.client.GET('/api/v1/chats');
check(chats.data?.items[0]?.unread_count === 5, 'bob has 5 unread');
check(chats.data.items[0].last_message?.content === 'message 4', 'last_message is the newest');

const scenarios = await alice.client.GET('/api/v1/bot/scenarios');
check(scenarios.data?.items.some((s) => s.id === 'job_interview'), 'scenarios page');
const bot = await alice.client.POST('/api/v1/chats', {
  body: { kind: 'bot', scenario_id: 'job_interview', level: 'B2' },
});
check(bot.data?.kind === 'bot' && bot.data.level === 'B2', 'bot chat created');
const botId = bot.data.id;

const plain = await alice.client.POST('/api/v1/chats/{id}/messages', {
  params: { path: { id: botId } },
  body: { content: 'Yesterday I goed to work.' },
});
const exchange = plain.data;
check(exchange && 'reply' in exchange, 'a plain bot message answers a BotExchange');
check(exchange.reply.feedback?.status === 'corrected', 'feedback status');
check(exchange.reply.feedback?.corrections[0]?.original === 'goed'
  && exchange.reply.feedback.corrections[0].corrected === 'went', 'feedback corrects the mistake');
check(plain.response.headers.get('RateLimit-Remaining') === '2', 'RateLimit-Remaining header');

for (const content of ['Tell me more.', 'And then?']) {
  const streamed = await alice.client.POST('/api/v1/chats/{id}/messages/stream', {
    params: { path: { id: botId } },
    body: { content },
    parseAs: 'stream',
  });
  check(streamed.response.status === 200 && streamed.data, 'stream answers 200');
  const names: string[] = [];
  let done: any = null;
  for await (const [name, data] of sse(streamed.data)) {
    names.push(name);
    if (name === 'done') done = data;
  }
  check(names[0] === 'message' && names.includes('delta') && names.at(-1) === 'done', `events ${names.length}`);
  check(typeof done.reply.content === 'string' && done.quota.remaining >= 0, 'done has the reply and quota');
}

const notebook = await alice.client.GET('/api/v1/me/mistakes', { params: { query: { chat_id: botId } } });
check(notebook.data?.items[0]?.kind === 'grammar' && notebook.data.items[0].original === 'goed', 'the notebook keeps it');
const progress = await alice.client.GET('/api/v1/me/progress', { params: { query: { days: 7 } } });
check(progress.data?.days.length === 7 && progress.data.days[6].messages === 3, 'progress counts practice');

const quota = await alice.client.GET('/api/v1/bot/quota');
check(quota.data?.used === 3 && quota.data.remaining === 0, 'quota used up');

const over = await alice.client.POST('/api/v1/chats/{id}/messages', {
  params: { path: { id: botId } },
  body: { content: 'One more?' },
});
const overError: ErrorBody | undefined = over.error;
check(over.response.status === 429 && overError?.error === 'daily_quota_exceeded', '429 reads as ErrorBody');
check(Number(over.response.headers.get('Retry-After')) > 0, '429 carries Retry-After');
const missing = await alice.client.GET('/api/v1/chats/{id}', {
  params: { path: { id: '01937c4e-8f1a-7000-8000-000000000000' } },
});
check(missing.response.status === 404 && missing.error?.error === 'not_found', '404 reads as ErrorBody');
console.log('typescript scenario passed');
