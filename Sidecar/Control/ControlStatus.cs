using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionSidecar.Captions;
using CaptionSidecar.Overlay;
using CaptionSidecar.RelayOutput;
using CaptionSidecar.Speakers;
using CaptionSidecar.Tracks;
using CaptionSidecar.YouTube;

namespace CaptionSidecar.Control;

/// <summary>
/// The sidecar's state at a glance: the document <c>GET /api/status</c> returns (camelCase JSON, see
/// <see cref="ControlJsonContext"/>), the control page shows and the tray's tooltip sums up. The sidecar owns this
/// schema; the overlay library only passes it through, so a new field is added here (or to a record it holds, such
/// as <see cref="TrackStatus"/>) and nowhere else. Fields are only ever added, never renamed: scripts poll this.
/// </summary>
/// <param name="Engine">Caption engine in use (for example <c>openai</c>, <c>test-pattern</c>).</param>
/// <param name="UptimeSeconds">Seconds since the sidecar started.</param>
/// <param name="Tracks">One entry per running caption track, as the track reports it (its session state as <c>sessionState</c>).</param>
/// <param name="ObsState">OBS connection state in words (for example <c>connected</c>, <c>off</c>).</param>
/// <param name="AudioLevelDbfs">Recent audio peak level in dBFS, or null when no audio arrives.</param>
/// <param name="DroppedAudioChunks">Audio chunks dropped since start because a consumer fell behind.</param>
/// <param name="CaptionsPerMinute">Finalised caption lines per minute, over the last minute.</param>
/// <param name="RateLimits">Rate limits as last reported by every track, possibly empty.</param>
/// <param name="RecentErrors">Recent errors worth showing to a moderator, newest last, possibly empty.</param>
/// <param name="Outputs">Every caption output (console, transcripts, OBS, overlay) with its counters.</param>
/// <param name="AudioRmsDbfs">Recent audio RMS level in dBFS, or null when no audio arrives (or digital silence).</param>
/// <param name="Speech">True while the local level detector hears speech; null when no audio path runs.</param>
/// <param name="Costs">The cost meter's reading, or null when the sidecar has none.</param>
/// <param name="VoiceGateOpen">True while the local voice gate sends audio to the sessions, false while it holds silence back; null when no gate runs.</param>
/// <param name="HeldBackSeconds">Seconds of audio the voice gate kept from the (paid) sessions since start; null when no gate runs.</param>
/// <param name="Muted">True while captioning is paused because the streamer's mic is muted in OBS (no audio goes to any session); null when that feature is off.</param>
/// <param name="MutedSeconds">Seconds of audio captured while muted since start, none of which reached a session; null when that feature is off.</param>
/// <param name="Input">What the audio input is doing (waiting for it to open, waiting for audio, receiving, ended, failed); null when no audio is used.</param>
/// <param name="Speakers">Every configured speaker in configuration order, as <c>GET /api/speakers</c> lists them (one, named <c>main</c>, without <c>--speaker</c>); null when the status has none to give.</param>
/// <param name="Relay">The relay output (captions published to NATS for the viewer relays): its server without password, stream, connection and counters; null when it is off.</param>
/// <param name="YouTube">The YouTube caption output: on or off, its state, the ingestion URL's host only, language, offset and counters; null when the host has none.</param>
internal sealed record ControlStatus(
    string Engine,
    double UptimeSeconds,
    IReadOnlyList<TrackStatus> Tracks,
    string ObsState,
    double? AudioLevelDbfs,
    long DroppedAudioChunks,
    double CaptionsPerMinute,
    IReadOnlyList<RateLimitStatus> RateLimits,
    IReadOnlyList<string> RecentErrors,
    IReadOnlyList<CaptionSinkStats>? Outputs = null,
    double? AudioRmsDbfs = null,
    bool? Speech = null,
    CostStatus? Costs = null,
    bool? VoiceGateOpen = null,
    double? HeldBackSeconds = null,
    bool? Muted = null,
    double? MutedSeconds = null,
    InputStatus? Input = null,
    IReadOnlyList<SpeakerStatus>? Speakers = null,
    RelayOutputStatus? Relay = null,
    YouTubeOutputStatus? YouTube = null);

/// <summary>The audio input's state, so a moderator sees why no captions come (a FIFO nobody writes to, a silent stdin).</summary>
/// <param name="Source">The input as given, for example <c>file:/tmp/audio.fifo</c>.</param>
/// <param name="State"><c>opening</c>, <c>waiting-for-audio</c>, <c>receiving</c>, <c>ended</c> or <c>failed</c>.</param>
/// <param name="Since">When it entered that state (for <c>waiting-for-audio</c> and <c>receiving</c>: when it opened).</param>
/// <param name="Detail">A sentence for people: what is waited for, or why it failed; null when there is nothing to add.</param>
internal sealed record InputStatus(string Source, string State, DateTimeOffset Since, string? Detail);

/// <summary>What the caption engine has cost so far and costs per hour, from the tokens the service reported.</summary>
/// <param name="Languages">Per caption language (running or run earlier).</param>
/// <param name="Total">Everything so far.</param>
/// <param name="PerHour">What the languages running now cost per hour of stream.</param>
/// <param name="Currency">The currency of the prices.</param>
/// <param name="PricesAsOf">When the prices were last checked.</param>
internal sealed record CostStatus(IReadOnlyList<LanguageCostStatus> Languages, decimal Total, decimal PerHour, string Currency, string PricesAsOf);

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
internal sealed record LanguageCostStatus(
    string Language,
    string? Model,
    long AudioInputTokens,
    long CachedInputTokens,
    long TextInputTokens,
    long OutputTokens,
    decimal? Cost,
    decimal? CostPerHour,
    bool Running);

/// <summary>
/// The JSON of <see cref="ControlStatus"/>: web defaults (camelCase), enums as camelCase strings (a track's
/// <c>sessionState</c> reads <c>connected</c>, <c>reconnecting</c>, ...).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    Converters = [typeof(CamelCaseEnumConverter<TrackSessionState>)])]
[JsonSerializable(typeof(ControlStatus))]
[JsonSerializable(typeof(IReadOnlyList<SpeakerStatus>))]
[JsonSerializable(typeof(SpeakerStatus))]
[JsonSerializable(typeof(YouTubeSettingsChange))]
[JsonSerializable(typeof(YouTubeOutputStatus))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;

/// <summary>An enum as its member's name in camelCase (<c>Connected</c> becomes <c>connected</c>).</summary>
internal sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase)
    where TEnum : struct, Enum;

/// <summary>
/// The control surface as the sidecar's own parts (the tray) use it: the status and the speakers as typed records.
/// The control API gets the same records as JSON documents (<see cref="IControlSurface.GetStatus"/>,
/// <see cref="IControlSurface.GetSpeakers"/>, <see cref="IControlSurface.SetSpeakerCaptionedAsync"/>).
/// </summary>
internal interface ISidecarControl : IControlSurface
{
    /// <summary>A snapshot of the sidecar's state; called on every status poll, so it is cheap.</summary>
    ControlStatus ReadStatus();

    /// <summary>Every configured speaker in configuration order, levels ready for JSON (no infinities); cheap.</summary>
    IReadOnlyList<SpeakerStatus> ReadSpeakers();

    /// <summary>Captions or mutes the speaker named <paramref name="name"/> (case-insensitive; <c>main</c> for the unnamed one).</summary>
    Task<SpeakerChange> ChangeSpeakerAsync(string name, bool captioned, CancellationToken cancellationToken);

    /// <inheritdoc/>
    JsonElement IControlSurface.GetStatus() => JsonSerializer.SerializeToElement(ReadStatus(), ControlJsonContext.Default.ControlStatus);

    /// <summary>Applies a moderator's change to the YouTube output; null when the sidecar has none.</summary>
    /// <exception cref="ArgumentException">A setting is invalid: the message says what to fix.</exception>
    Task<YouTubeOutputStatus?> ChangeYouTubeAsync(YouTubeSettingsChange change, CancellationToken cancellationToken);

    /// <inheritdoc/>
    async Task<JsonElement?> IControlSurface.ConfigureOutputAsync(string name, JsonElement settings, CancellationToken cancellationToken)
    {
        if (!string.Equals(name, "youtube", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        YouTubeSettingsChange? change;
        try
        {
            change = settings.Deserialize(ControlJsonContext.Default.YouTubeSettingsChange);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException("Send {\"enabled\": true|false, \"url\": \"...\", \"language\": \"en\", \"offsetSeconds\": 0} (any of them): " + ex.Message, ex);
        }

        return await ChangeYouTubeAsync(change ?? new YouTubeSettingsChange(), cancellationToken) is { } status
            ? JsonSerializer.SerializeToElement(status, ControlJsonContext.Default.YouTubeOutputStatus)
            : null;
    }

    /// <inheritdoc/>
    JsonElement IControlSurface.GetSpeakers() => JsonSerializer.SerializeToElement(ReadSpeakers(), ControlJsonContext.Default.IReadOnlyListSpeakerStatus);

    /// <inheritdoc/>
    async Task<JsonElement?> IControlSurface.SetSpeakerCaptionedAsync(string name, bool captioned, CancellationToken cancellationToken)
    {
        if (await ChangeSpeakerAsync(name, captioned, cancellationToken) == SpeakerChange.Unknown)
        {
            return null;
        }

        // The change is applied when it returns, so the snapshot shows the new state.
        return ReadSpeakers().FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) is { } speaker
            ? JsonSerializer.SerializeToElement(speaker, ControlJsonContext.Default.SpeakerStatus)
            : null;
    }
}
