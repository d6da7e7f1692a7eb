namespace CaptionSidecar.Captions;

/// <summary>Counters and state of one caption output, for status.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="Delivered">Updates the sink handled without an exception.</param>
/// <param name="Dropped">Display-only updates dropped because the sink's queue was full.</param>
/// <param name="Failed">Attempts (updates, retries and closes) for which the sink threw.</param>
/// <param name="Queued">Updates waiting for the sink now.</param>
/// <param name="FinalLinesLost">Final lines the sink did not record: dropped from its full queue, or still failing when the sidecar stopped.</param>
/// <param name="Problem">Why the sink fails now (it is being retried), or null while it works.</param>
public sealed record CaptionSinkStats(string Sink, long Delivered, long Dropped, long Failed, int Queued, long FinalLinesLost = 0, string? Problem = null);
