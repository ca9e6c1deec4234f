package service

// HistoryPerWorkcycle makes the service read the events ledger once per
// workcycle, as it did before the per-poll batch read, for comparison.
func HistoryPerWorkcycle(set *Settings) { set.historyPerWorkcycle = true }
