// Package commit decides which Kafka offset of a partition may be committed.
//
// Work derived from a partition's records (a ClickHouse transaction, a dead
// letter) is begun as a Ticket and finished with Ticket.Done once the far
// side acknowledged it. After a poll the consumer calls Mark with the offset
// it would resume from: the work-unit engine's resume offset, the earliest
// offset still needed to rebuild state not yet written. That offset becomes
// committable only when every ticket begun before the Mark is done, whatever
// order the acknowledgements come back in. Nothing that is not acknowledged
// is ever behind a committable offset.
package commit
