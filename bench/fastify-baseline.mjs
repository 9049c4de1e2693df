import Fastify from 'fastify';

// The Fastify baseline: its default logger on (pino, two JSON lines a request to stdout, as `logger: true`
// gives), the fixture's GET / and a POST /items whose body Fastify validates against the JSON Schema of the
// same rules as the fixture's valibot schema. Run as `node bench/fastify-baseline.mjs <port>`.
const app = Fastify({ logger: true });

app.get('/', async () => ({ app: 'fixture' }));
app.post(
  '/items',
  {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'qty'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 50 },
          qty: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
  async (request, reply) => reply.code(201).send(request.body),
);

await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
