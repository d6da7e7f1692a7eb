namespace CaptionSidecar.Realtime;

/// <summary>
/// When a track replaces a healthy session before the service ends it. The next session is opened at
/// <see cref="StartAt"/>: after the configured maximum age, or earlier when the session's <c>expires_at</c> leaves
/// less room than opening the next one, waiting for a pause and finishing the old one's last turns need. The handover
/// waits for a pause between turns until <see cref="HandOverBy"/> at the latest.
/// </summary>
internal sealed class RolloverSchedule
{
    /// <summary>Longest wait for a pause between turns once the next session is ready.</summary>
    public static readonly TimeSpan MaxTurnWait = TimeSpan.FromSeconds(30);

    /// <summary>Most room kept before <c>expires_at</c>; a short-lived session keeps half its life instead.</summary>
    private static readonly TimeSpan MaxLead = TimeSpan.FromMinutes(5);

    private readonly DateTimeOffset? _expiresAt;
    private readonly TimeSpan _lead;

    /// <param name="maxAge">The configured maximum age (<see cref="RealtimeOptions.RolloverAfterMinutes"/>); zero or less: never.</param>
    /// <param name="readyAt">When the session became ready.</param>
    /// <param name="expiresAt">The session's <c>expires_at</c>, when the server sent one.</param>
    public RolloverSchedule(TimeSpan maxAge, DateTimeOffset readyAt, DateTimeOffset? expiresAt)
    {
        if (maxAge <= TimeSpan.Zero)
        {
            return;
        }

        StartAt = readyAt + maxAge;
        if (expiresAt is { } expires && expires > readyAt)
        {
            _expiresAt = expires;
            _lead = Min(MaxLead, (expires - readyAt) / 2);
            StartAt = Min(StartAt.Value, expires - _lead);
        }
    }

    /// <summary>When to open the next session; null when rollover is off.</summary>
    public DateTimeOffset? StartAt { get; }

    /// <summary>The latest moment to hand over, even in the middle of a turn, for a next session ready at <paramref name="nextReadyAt"/>.</summary>
    public DateTimeOffset HandOverBy(DateTimeOffset nextReadyAt)
    {
        var latest = nextReadyAt + MaxTurnWait;
        return _expiresAt is { } expires ? Min(latest, expires - (_lead / 4)) : latest;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
