namespace CaptionSidecar.Captions;

/// <summary>Counters of one caption output, for status.</summary>
/// <param name="Sink">The sink's name.</param>
/// <param name="Delivered">Updates the sink handled without an exception.</param>
/// <param name="Dropped">Updates dropped because the sink's queue was full (never ones that finalize turns).</param>
/// <param name="Failed">Updates and closes for which the sink threw.</param>
/// <param name="Queued">Updates waiting for the sink now.</param>
public sealed record CaptionSinkStats(string Sink, long Delivered, long Dropped, long Failed, int Queued);
