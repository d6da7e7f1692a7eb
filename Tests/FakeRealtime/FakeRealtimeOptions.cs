namespace CaptionSidecar.FakeRealtime;

/// <summary>Settings of a <see cref="FakeRealtimeServer"/>; every default matches the real service where one exists.</summary>
public sealed partial class FakeRealtimeOptions
{
    /// <summary>Loopback port to listen on; 0 (default) picks a free ephemeral port.</summary>
    public int Port { get; init; }

    /// <summary>The only API key accepted (as <c>Authorization: Bearer KEY</c> or Azure's <c>api-key: KEY</c>).</summary>
    public string ApiKey { get; init; } = "test-key";

    /// <summary>
    /// Caption lines handed out one per turn, positions shared by all sessions of the server: transcription sessions
    /// take the source (first) column, conversation sessions their target language's column (see <see cref="FakeScript"/>).
    /// </summary>
    public FakeScript Script { get; init; } = FakeScript.FromLines([]);

    /// <summary>
    /// Scripts of single speakers, for several transcription sessions at once (one per speaker), each with its own
    /// lines and positions. A transcription session picks its script at every committed turn from its current
    /// <c>audio.input.transcription</c> settings, first match wins:
    /// <list type="number">
    /// <item>a marker <c>[speaker:NAME]</c> anywhere in <c>prompt</c>, else a last line <c>Speaker: NAME.</c> (what the
    /// sidecar writes for a named speaker; NAME of letters, digits, spaces and <c>. _ -</c>), NAME compared
    /// case-insensitively with the keys;</item>
    /// <item>the <c>language</c> (e.g. <c>es</c>) equal to a key (case-insensitive), for speakers of different languages;</item>
    /// <item>otherwise <see cref="Script"/>.</item>
    /// </list>
    /// A marker naming no key is logged and falls through to the language. Both are plain protocol fields, so the
    /// client stays protocol-exact. Conversation sessions translating text look the source sentence up in
    /// <see cref="Script"/> first, then in these scripts in key order (see <see cref="FakeScript.TryTranslate"/>).
    /// Keys must be non-empty and hold no <c>]</c>. Empty by default.
    /// </summary>
    public IReadOnlyDictionary<string, FakeScript> SpeakerScripts { get; init; } = new Dictionary<string, FakeScript>();

    /// <summary>
    /// Maximum session duration; when it passes the session sends <c>session_expired</c> and closes with 1001,
    /// like the real service (60 minutes). Null disables expiry (and <c>expires_at</c> is then 0).
    /// </summary>
    public TimeSpan? SessionLifetime { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Pause between two transcription deltas of one turn (default 20 ms).</summary>
    public TimeSpan WordDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>A 10 ms audio frame whose RMS level is above this (dBFS) counts as voiced (default -40).</summary>
    public double VadThresholdDbfs { get; init; } = -40;

    /// <summary>When true the server answers every upgrade with HTTP 503 (see <see cref="FakeRealtimeServer.RejectConnections"/>).</summary>
    public bool RejectConnections { get; init; }

    /// <summary>When set, every Nth committed turn (server-wide) gets <c>transcription.failed</c> instead of text.</summary>
    public int? TurnFailureEvery { get; init; }

    /// <summary>Text a hostile server sends besides the script's (see <see cref="HostileTextMode"/>). Default none.</summary>
    public HostileTextMode HostileText { get; init; }

    /// <summary>Clock for session expiry, <c>expires_at</c> and word delays (tests may pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Check every connection's events against OpenAI's published Realtime schemas, recording problems in
    /// <see cref="FakeSession.SchemaViolations"/> (on by default).
    /// </summary>
    public bool CheckSchemas { get; init; } = true;

    /// <summary>Least severe log level written to stderr. Default Warning (quiet inside test runs); the standalone tool uses Information.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Warning;

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be 0 (any free port) or 1-65535.");
        }

        if (string.IsNullOrEmpty(ApiKey))
        {
            throw new ArgumentException("ApiKey must not be empty: the fake server always requires a key.", nameof(ApiKey));
        }

        if (SessionLifetime is { } lifetime && lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SessionLifetime), lifetime, "SessionLifetime must be positive (or null for no expiry).");
        }

        if (WordDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(WordDelay), WordDelay, "WordDelay must not be negative.");
        }

        if (TurnFailureEvery is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(TurnFailureEvery), TurnFailureEvery, "TurnFailureEvery must be at least 1 (or null).");
        }

        foreach (var (key, script) in SpeakerScripts)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Contains(']', StringComparison.Ordinal) || key.Trim() != key || script is null)
            {
                throw new ArgumentException($"SpeakerScripts: the key '{key}' is not usable; a key is a non-empty name without surrounding spaces or ']', with a script.", nameof(SpeakerScripts));
            }
        }

        if (SpeakerScripts.Keys.GroupBy(k => k, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new ArgumentException($"SpeakerScripts: the key '{duplicate.Key}' appears more than once (keys are compared case-insensitively).", nameof(SpeakerScripts));
        }

        ValidateHostile();
    }
}
