namespace CaptionSidecar.Overlay;

/// <summary>A language the host can caption, and whether it is on.</summary>
/// <param name="Code">Language code, as used in <c>PUT /api/languages/{code}</c> and <c>?lang=</c>.</param>
/// <param name="Name">Display name (for example <c>English</c>).</param>
/// <param name="Enabled">True when captions in this language are produced.</param>
public sealed record LanguageState(string Code, string Name, bool Enabled);

/// <summary>The state of one caption track (one language) and its Realtime session.</summary>
/// <param name="Language">Language code of the track.</param>
/// <param name="SessionState">Session state in words (for example <c>connected</c>, <c>reconnecting</c>).</param>
/// <param name="LastError">The last error of the session, or null.</param>
public sealed record TrackStatus(string Language, string SessionState, string? LastError);

/// <summary>A rate limit as last reported by the engine.</summary>
/// <param name="Name">What is limited (for example <c>requests</c>, <c>tokens</c>).</param>
/// <param name="Remaining">How much is left in the current window.</param>
/// <param name="Limit">The size of the window.</param>
public sealed record RateLimitStatus(string Name, long Remaining, long Limit);

/// <summary>The host's state at a glance, as <c>GET /api/status</c> returns it and the control page shows it.</summary>
/// <param name="Engine">Caption engine in use (for example <c>openai-realtime</c>, <c>test-pattern</c>).</param>
/// <param name="UptimeSeconds">Seconds since the host started.</param>
/// <param name="Tracks">One entry per running caption track.</param>
/// <param name="ObsState">OBS connection state in words (for example <c>connected</c>, <c>off</c>).</param>
/// <param name="AudioLevelDbfs">Recent audio peak level in dBFS, or null when no audio arrives.</param>
/// <param name="DroppedAudioChunks">Audio chunks dropped since start because a consumer fell behind.</param>
/// <param name="CaptionsPerMinute">Finalised caption lines per minute, over the last minute.</param>
/// <param name="RateLimits">Rate limits as last reported, possibly empty.</param>
/// <param name="RecentErrors">Recent errors worth showing to a moderator, newest last, possibly empty.</param>
/// <param name="AudioRmsDbfs">Recent audio RMS level in dBFS, or null when no audio arrives (or digital silence).</param>
/// <param name="Speech">True while the local level detector hears speech; null when no audio path runs.</param>
public sealed record ControlStatus(
    string Engine,
    double UptimeSeconds,
    IReadOnlyList<TrackStatus> Tracks,
    string ObsState,
    double? AudioLevelDbfs,
    long DroppedAudioChunks,
    double CaptionsPerMinute,
    IReadOnlyList<RateLimitStatus> RateLimits,
    IReadOnlyList<string> RecentErrors,
    double? AudioRmsDbfs = null,
    bool? Speech = null);

/// <summary>Body of <c>PUT /api/languages/{code}</c>.</summary>
/// <param name="Enabled">True to turn the language on, false to turn it off; required.</param>
public sealed record LanguageToggleRequest(bool? Enabled);
