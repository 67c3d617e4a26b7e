#!/usr/bin/env node
// Checks, before anything is installed or built, that the services the tests use answer on
// 127.0.0.1 (README, "Running the tests"). Prints one line per service and exits 1 listing every
// missing one, so a CI machine without them fails in a second with the reason instead of with
// connection errors scattered through the test output.
import net from 'node:net';
import { clearTimeout, setTimeout } from 'node:timers';

const TIMEOUT_MS = 3000;

/** name, port, what the tests expect there, and an optional check of the server's greeting. */
const SERVICES = [
  { name: 'PostgreSQL', port: 5432, expect: 'trust auth, database `test`' },
  { name: 'MariaDB', port: 3306, expect: 'user root without password, database `test`' },
  { name: 'Redis', port: 6379, expect: 'no password' },
  { name: 'RabbitMQ', port: 5672, expect: 'AMQP 0-9-1, guest/guest' },
  {
    name: 'NATS',
    port: 4222,
    expect: 'with JetStream (nats-server -js)',
    // A NATS server greets with `INFO {json}`; the JSON says whether JetStream is on.
    greeting: (line) => {
      if (!line.startsWith('INFO ')) return 'it did not greet as a NATS server';
      try {
        return JSON.parse(line.slice(5)).jetstream === true ? undefined : 'JetStream is off (start nats-server with -js)';
      } catch {
        return 'its INFO line is not JSON';
      }
    },
  },
];

// CI_<NAME>_PORT (CI_NATS_PORT, …) points a check elsewhere: for the script's own test only; the
// tests themselves use the fixed ports above.
for (const service of SERVICES) {
  const override = process.env[`CI_${service.name.toUpperCase()}_PORT`];
  if (override !== undefined && override !== '') service.port = Number(override);
}

/** Resolves to undefined when the service answers as expected, else to the reason it does not. */
function probe(service) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: service.port });
    let buffered = '';
    const done = (problem) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => done(service.greeting ? 'no greeting within 3 s' : 'no answer within 3 s'), TIMEOUT_MS);
    socket.on('error', (error) => done(error.code === 'ECONNREFUSED' ? 'connection refused' : error.message));
    socket.on('connect', () => {
      if (service.greeting === undefined) done(undefined);
    });
    socket.setEncoding('utf8').on('data', (chunk) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end !== -1 && service.greeting !== undefined) done(service.greeting(buffered.slice(0, end).trim()));
    });
  });
}

const problems = await Promise.all(SERVICES.map(probe));
const missing = [];
SERVICES.forEach((service, i) => {
  const where = `${service.name} on 127.0.0.1:${service.port}`;
  if (problems[i] === undefined) {
    console.log(`ci: ${where}: ok`);
  } else {
    missing.push(service);
    console.error(`ci: ${where}: ${problems[i]}; the tests need it (${service.expect})`);
  }
});
if (missing.length > 0) {
  console.error(`ci: ${missing.length} service(s) missing: ${missing.map((s) => s.name).join(', ')}. See README.md, "Running the tests".`);
  process.exit(1);
}
