// Gossip publishing and the log of received messages, in the contract's payload format.

import { unixNs } from './clock.js'
import { log } from './log.js'
import { decode, encode } from './payload.js'

/** Per-publisher sequence numbers and everything received on the topic. */
export class Gossip {
  constructor (node, topic) {
    this.node = node
    this.topic = topic
    this.nextSeq = 0n
    this.published = 0
    this.received = []
    this.undecodable = 0
  }

  start () {
    const { pubsub } = this.node.services
    pubsub.subscribe(this.topic)
    pubsub.addEventListener('message', (evt) => this.onMessage(evt.detail))
  }

  onMessage (msg) {
    const receivedNs = unixNs()
    if (msg.type !== 'signed' || msg.topic !== this.topic) {
      return
    }
    let header
    try {
      header = decode(msg.data)
    } catch (err) {
      if (this.undecodable++ === 0) {
        log.warn('ignoring a gossip message that is not in the contract format', { from: msg.from.toString(), error: err.message })
      }
      return
    }
    this.received.push({
      id: header.id,
      publisher: msg.from.toString(),
      seq: header.seq,
      sent_ns: header.sentNs,
      received_ns: receivedNs,
      size: msg.data.length
    })
  }

  /** Whether any peer is subscribed to `topic` (publishing otherwise reaches no one). */
  hasSubscribers (topic) {
    return this.node.services.pubsub.getSubscribers(topic).length > 0
  }

  /** Publishes one payload of `size` bytes; throws the pubsub error if no peer takes it. */
  async publish ({ size, id, topic }) {
    const seq = this.nextSeq
    const sentNs = unixNs()
    const data = encode({ seq, sentNs, id }, size)
    await this.node.services.pubsub.publish(topic ?? this.topic, data)
    this.nextSeq++
    this.published++
    return {
      // gossipsub's own id (publisher and its random seqno) is not returned by publish().
      message_id: `${this.node.peerId}/${seq}`,
      seq,
      sent_ns: sentNs,
      size: data.length
    }
  }

  page (since, limit = 10_000) {
    const messages = this.received.slice(since, since + limit)
    return { messages, next: since + messages.length }
  }
}
