// Package source is the Kafka stage of `awumeter run`: a franz-go consumer
// group member that decodes records, folds them into one work-unit engine
// per assigned partition, hands the rows to the ClickHouse sink with an ack,
// produces dead letters, and commits offsets only behind acknowledged work.
//
// Per poll and partition:
//
//	records ──decode──▶ events ──engine.Apply──▶ accepted events (ledger)
//	                    rejections ─────────────▶ dead letter (own ticket)
//	engine.Emit ──▶ rows + ledger ──sink.Add(ack)──▶ ClickHouse (one ticket)
//	commit.Partition.Mark(engine resume offset)
//
// An offset is committed when commit.Partition says every ticket begun
// before its mark is done. The argument for why this loses nothing and
// counts nothing twice is in DESIGN.md, "Why nothing is lost or counted twice".
//
// Rebalances use the cooperative-sticky balancer with BlockRebalanceOnPoll,
// so the callbacks never run while a poll is being processed. A revoked
// partition is flushed and committed before it is handed over; a lost one
// is dropped without a commit (its next owner replays from the last commit).
package source
