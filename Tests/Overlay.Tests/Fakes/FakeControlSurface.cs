namespace CaptionSidecar.Overlay.Tests.Fakes;

/// <summary>A host with a few languages that records what the control API asked of it.</summary>
public sealed class FakeControlSurface : IControlSurface
{
    private readonly Lock _gate = new();
    private readonly List<LanguageState> _languages =
    [
        new("en", "English", true),
        new("es", "Spanish", false),
    ];

    public List<string> Calls { get; } = [];

    public ControlStatus Status { get; set; } = new(
        Engine: "test-pattern",
        UptimeSeconds: 3725,
        Tracks: [new TrackStatus("en", "connected", null, Rollovers: 3), new TrackStatus("es", "reconnecting", "socket closed", Reconnects: 1, WatchdogRestarts: 2)],
        ObsState: "connected",
        AudioLevelDbfs: -18.5,
        DroppedAudioChunks: 3,
        CaptionsPerMinute: 12,
        RateLimits: [new RateLimitStatus("requests", 90, 100)],
        RecentErrors: ["es session closed by server"],
        AudioRmsDbfs: -24.5,
        Speech: true);

    public ControlStatus GetStatus() => Status;

    public IReadOnlyList<LanguageState> GetLanguages()
    {
        lock (_gate)
        {
            return [.. _languages];
        }
    }

    public Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add($"set {code} {enabled}");
            var index = _languages.FindIndex(l => l.Code == code);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _languages[index] = _languages[index] with { Enabled = enabled };
            return Task.FromResult(true);
        }
    }

    public Task ClearCaptionsAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add("clear");
        }

        return Task.CompletedTask;
    }

    public Task ShowTestCaptionAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Calls.Add("test");
        }

        return Task.CompletedTask;
    }

    public string[] CallsSnapshot()
    {
        lock (_gate)
        {
            return [.. Calls];
        }
    }
}
