using System.Text.Json.Serialization;

namespace CaptionSidecar.Tracks;

/// <summary>Where a track's session stands.</summary>
public enum TrackSessionState
{
    Starting,
    Connecting,
    Connected,
    Reconnecting,
    Draining,
    Stopped,
    Failed,
}

/// <summary>A rate limit as last reported by the server (the one record for it: status and /api/status use it as is).</summary>
/// <param name="Name">What is limited (for example <c>requests</c>, <c>tokens</c>).</param>
/// <param name="Limit">The size of the window.</param>
/// <param name="Remaining">How much is left in the current window.</param>
/// <param name="ResetSeconds">Seconds until the window resets.</param>
public sealed record RateLimitStatus(string Name, long Limit, long Remaining, double ResetSeconds);

/// <summary>
/// An immutable snapshot of a track for status output; tracks publish a new one when anything changes.
/// <see cref="Reconnects"/> counts sessions lost and replaced, <see cref="Rollovers"/> sessions replaced ahead of their
/// limit without a gap, <see cref="WatchdogRestarts"/> sessions replaced because they heard speech but returned no text,
/// <see cref="LinesSkippedLate"/> source lines a text translation skipped because they fell behind the lag limit
/// (<c>Realtime:TranslationLagSeconds</c>).
/// <c>/api/status</c> carries it as is (camelCase, <see cref="State"/> as <c>sessionState</c>), so a field added here
/// shows there with no other change.
/// </summary>
public sealed record TrackStatus(
    string Language,
    [property: JsonPropertyName("sessionState")] TrackSessionState State,
    string? SessionId = null,
    string? LastError = null,
    DateTimeOffset? ConnectedAt = null,
    DateTimeOffset? ExpiresAt = null,
    int Reconnects = 0,
    long ChunksSent = 0,
    long ChunksDropped = 0,
    long TurnsCompleted = 0,
    IReadOnlyList<RateLimitStatus>? RateLimits = null,
    TokenUsage? Usage = null,
    string? Model = null,
    int Rollovers = 0,
    int WatchdogRestarts = 0,
    long ReplayWaits = 0,
    long LinesSkippedLate = 0)
{
    /// <summary>The speaker this track hears (their key: the name, or <c>main</c>); null for a text translation, which serves every speaker.</summary>
    public string? Speaker { get; init; }

    /// <summary>What the track has been billed for so far (never null).</summary>
    public TokenUsage Usage { get; init; } = Usage ?? TokenUsage.None;
}
