// A kafkajs back-end for the client matrix (tests/integration/test_clients.py): produces case events, then prints
// the outcomes it consumes, one JSON object a line on stdout.
//
// Run with the folder holding node_modules (kafkajs, kafkajs-snappy) as the working directory, the job on stdin:
//   {"brokers": ["127.0.0.1:9092"],
//    "produce": {"topic": "in", "records": [{"key": "CASE-1", "value": "<base64>", "headers": {"ce_id": "<base64>"},
//                                            "compression": "none" | "gzip" | "snappy"}]},
//    "consume": {"topics": ["acks", "rej", "dlq"], "groupId": "g", "expected": 1, "timeoutMs": 30000, "graceMs": 500}}
// Prints {"produced": {"index", "partition", "offset"}} per record, {"consumed": {"topic", "partition", "offset",
// "key", "value", "headers"}} per outcome (bytes in base64), then {"done": {"consumed", "timedOut"}}. Logs go to
// stderr. The producer is not idempotent: Tansu refuses kafkajs's InitProducerId (v0/v1).
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(join(process.cwd(), 'node_modules'))
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec

const COMPRESSION = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy }

const print = (line) => process.stdout.write(`${JSON.stringify(line)}\n`)
const bytes = (base64) => Buffer.from(base64, 'base64')
const base64 = (buffer) => (buffer == null ? null : Buffer.from(buffer).toString('base64'))

const toStderr = () => ({ namespace, label, log }) => {
  process.stderr.write(`${label} ${namespace} ${log.message} ${JSON.stringify(log)}\n`)
}

async function readJob() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function consume(kafka, job) {
  const { topics, groupId, expected, timeoutMs = 30000, graceMs = 500 } = job
  // Short waits for Tansu: a group join waits about half the session timeout, and a fetch that waits for records
  // is answered after about half of maxWaitTimeInMs (disconnect() waits for the fetch in flight).
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 1000,
    heartbeatInterval: 300,
    rebalanceTimeout: 1000,
    maxWaitTimeInMs: 100,
  })
  await consumer.connect()
  await consumer.subscribe({ topics, fromBeginning: true })
  let count = 0
  let enough
  const reached = new Promise((resolve) => {
    enough = resolve
  })
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([name, value]) => [name, base64(value)]),
      )
      print({
        consumed: { topic, partition, offset: message.offset, key: base64(message.key), value: base64(message.value), headers },
      })
      count += 1
      if (count >= expected) enough()
    },
  })
  let timer
  const timedOut = await Promise.race([
    reached.then(() => false),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs)
    }),
  ])
  clearTimeout(timer)
  if (!timedOut) await new Promise((resolve) => setTimeout(resolve, graceMs)) // a duplicate would show up here
  await consumer.disconnect()
  return { consumed: count, timedOut }
}

async function produce(kafka, job) {
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    // One record a request, so that each record's partition is known (Java-compatible murmur2 by default in 2.x).
    for (const [index, record] of job.records.entries()) {
      const headers = Object.fromEntries(Object.entries(record.headers ?? {}).map(([name, value]) => [name, bytes(value)]))
      const [metadata] = await producer.send({
        topic: job.topic,
        acks: -1,
        compression: COMPRESSION[record.compression ?? 'none'],
        messages: [{ key: record.key, value: bytes(record.value), headers }],
      })
      print({ produced: { index, partition: metadata.partition, offset: metadata.baseOffset } })
    }
  } finally {
    await producer.disconnect()
  }
}

const job = await readJob()
const kafka = new Kafka({
  clientId: 'kafkajs-client-matrix',
  brokers: job.brokers,
  logLevel: logLevel.WARN,
  logCreator: toStderr,
  retry: { retries: 5 },
})
const consuming = job.consume ? consume(kafka, job.consume) : Promise.resolve(null)
if (job.produce) await produce(kafka, job.produce)
const done = await consuming
print({ done })
