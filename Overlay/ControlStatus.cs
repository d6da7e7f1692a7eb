namespace CaptionSidecar.Overlay;

/// <summary>A language the host can caption, and whether it is on.</summary>
/// <param name="Code">Language code, as used in <c>PUT /api/languages/{code}</c> and <c>?lang=</c>.</param>
/// <param name="Name">Display name (for example <c>English</c>).</param>
/// <param name="Enabled">True when captions in this language are wanted on.</param>
/// <param name="Source">True for the spoken (source) language; false for a translation target.</param>
/// <param name="Running">True while the language's track runs (it may lag <paramref name="Enabled"/> while it starts or stops).</param>
public sealed record LanguageState(string Code, string Name, bool Enabled, bool Source = false, bool Running = false);

/// <summary>The state of one caption track (one language) and its Realtime session.</summary>
/// <param name="Language">Language code of the track.</param>
/// <param name="SessionState">Session state in words (for example <c>connected</c>, <c>reconnecting</c>).</param>
/// <param name="LastError">The last error of the session, or null.</param>
/// <param name="Reconnects">Sessions lost (drop, server close, expiry) and replaced with replay.</param>
/// <param name="Rollovers">Sessions replaced before their time limit without a gap.</param>
/// <param name="WatchdogRestarts">Sessions replaced because they heard speech but returned no text.</param>
public sealed record TrackStatus(string Language, string SessionState, string? LastError, int Reconnects = 0, int Rollovers = 0, int WatchdogRestarts = 0);

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
/// <param name="Costs">The cost meter's reading, or null when the host has none.</param>
/// <param name="VoiceGateOpen">True while the local voice gate sends audio to the sessions, false while it holds silence back; null when no gate runs.</param>
/// <param name="HeldBackSeconds">Seconds of audio the voice gate kept from the (paid) sessions since start; null when no gate runs.</param>
/// <param name="Muted">True while captioning is paused because the streamer's mic is muted in OBS (no audio goes to any session); null when that feature is off.</param>
/// <param name="MutedSeconds">Seconds of audio captured while muted since start, none of which reached a session; null when that feature is off.</param>
/// <param name="Input">What the audio input is doing (waiting for it to open, waiting for audio, receiving, ended, failed); null when no audio is used.</param>
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
    bool? Speech = null,
    CostStatus? Costs = null,
    bool? VoiceGateOpen = null,
    double? HeldBackSeconds = null,
    bool? Muted = null,
    double? MutedSeconds = null,
    InputStatus? Input = null);

/// <summary>The audio input's state, so a moderator sees why no captions come (a FIFO nobody writes to, a silent stdin).</summary>
/// <param name="Source">The input as given, for example <c>file:/tmp/audio.fifo</c>.</param>
/// <param name="State"><c>opening</c>, <c>waiting-for-audio</c>, <c>receiving</c>, <c>ended</c> or <c>failed</c>.</param>
/// <param name="Since">When it entered that state (for <c>waiting-for-audio</c> and <c>receiving</c>: when it opened).</param>
/// <param name="Detail">A sentence for people: what is waited for, or why it failed; null when there is nothing to add.</param>
public sealed record InputStatus(string Source, string State, DateTimeOffset Since, string? Detail);

/// <summary>What the caption engine has cost so far and costs per hour, from the tokens the service reported.</summary>
/// <param name="Languages">Per caption language (running or run earlier).</param>
/// <param name="Total">Everything so far.</param>
/// <param name="PerHour">What the languages running now cost per hour of stream.</param>
/// <param name="Currency">The currency of the prices.</param>
/// <param name="PricesAsOf">When the prices were last checked.</param>
public sealed record CostStatus(IReadOnlyList<LanguageCostStatus> Languages, decimal Total, decimal PerHour, string Currency, string PricesAsOf);

/// <summary>Tokens and cost of one caption language.</summary>
/// <param name="Language">Language code.</param>
/// <param name="Model">The model billed, or null.</param>
/// <param name="AudioInputTokens">Audio input tokens not served from the cache.</param>
/// <param name="CachedInputTokens">Input tokens (audio and text) served from the cache.</param>
/// <param name="TextInputTokens">Text input tokens not served from the cache.</param>
/// <param name="OutputTokens">Output tokens.</param>
/// <param name="Cost">Cost so far, or null when the model has no price.</param>
/// <param name="CostPerHour">Cost per hour the language has run, or null (less than a minute, or no price).</param>
/// <param name="Running">Whether the language runs now.</param>
public sealed record LanguageCostStatus(
    string Language,
    string? Model,
    long AudioInputTokens,
    long CachedInputTokens,
    long TextInputTokens,
    long OutputTokens,
    decimal? Cost,
    decimal? CostPerHour,
    bool Running);

/// <summary>Body of <c>PUT /api/languages/{code}</c>.</summary>
/// <param name="Enabled">True to turn the language on, false to turn it off; required.</param>
public sealed record LanguageToggleRequest(bool? Enabled);
