using CaptionSidecar.Captions;
using CaptionSidecar.Costs;
using CaptionSidecar.Hosting;
using CaptionSidecar.Languages;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Outputs;
using CaptionSidecar.Overlay;
using CaptionSidecar.Pipeline;
using CaptionSidecar.RelayOutput;
using CaptionSidecar.Speakers;
using CaptionSidecar.YouTube;

namespace CaptionSidecar.Control;

/// <summary>
/// What the control API, the control page and the tray see and change: a read-only view of the pipeline's state and
/// the few changes moderators may make. It goes through the pipeline service (and its <see cref="ISpeakerControl"/>),
/// never into a track. Every dependency comes in through the constructor; <paramref name="obs"/> is null when OBS is off
/// and <paramref name="relay"/> when the relay output is off (then nothing registers them); <paramref name="youTube"/>
/// is always registered by the host (null in tests that have none).
/// </summary>
internal sealed class ControlSurface(
    CaptionPipelineService pipeline,
    LanguageSwitchboard switchboard,
    CostMeter costs,
    EngineChoice engine,
    OverlayCaptionSink overlay,
    CaptionDispatcher outputs,
    ISpeakerControl speakers,
    TimeProvider time,
    ObsClient? obs = null,
    RelayPublisher? relay = null,
    YouTubeOutput? youTube = null) : ISidecarControl
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    public ControlStatus ReadStatus()
    {
        var running = pipeline.TrackUptimes;
        var tracks = running.Select(r => r.Status).ToList();
        var audio = pipeline.AudioStats;
        var obsStatus = obs?.Status;
        var relayStatus = relay?.Status;
        var youTubeStatus = youTube?.Status;
        return new ControlStatus(
            engine.Engine,
            (time.GetUtcNow() - _started).TotalSeconds,
            tracks,
            obsStatus is null ? "off" : obsStatus.State.ToString().ToLowerInvariant(),
            Dbfs(audio?.PeakDbfs),
            (audio?.ChunksDropped ?? 0) + tracks.Sum(t => t.ChunksDropped),
            overlay.CaptionsPerMinute,
            [.. tracks.SelectMany(t => t.RateLimits ?? [])],
            [.. tracks.Where(t => t.LastError is not null).Select(t => $"{t.Language}: {t.LastError}")
                .Append(obsStatus?.LastError is { } obsError ? $"OBS: {obsError}" : null)
                .Append(relayStatus is { Connected: false, LastError: { } relayError } ? $"Relay (NATS): {relayError}" : null)
                .Append(youTubeStatus?.Problem).OfType<string>()
                .Concat(outputs.Problems)],
            outputs.SinkStats,
            Dbfs(audio?.RmsDbfs),
            audio?.Speech,
            Costs(costs.Read(running)),
            audio?.VoiceGateOpen,
            audio?.VoiceGateOpen is null ? null : Math.Round(audio.HeldBack.TotalSeconds, 1),
            audio?.Muted,
            audio?.Muted is null ? null : Math.Round(audio.MutedDuration.TotalSeconds, 1),
            pipeline.Input is { } input ? Input(input) : null,
            ReadSpeakers(),
            relayStatus,
            youTubeStatus);
    }

    public IReadOnlyList<SpeakerStatus> ReadSpeakers() => [.. speakers.Speakers.Select(ForJson)];

    public async Task<YouTubeOutputStatus?> ChangeYouTubeAsync(YouTubeSettingsChange change, CancellationToken cancellationToken) =>
        youTube is null ? null : await youTube.ChangeAsync(change, cancellationToken);

    public Task<SpeakerChange> ChangeSpeakerAsync(string name, bool captioned, CancellationToken cancellationToken) =>
        speakers.SetCaptionedAsync(name, captioned, cancellationToken);

    /// <summary>A speaker's levels as the status shows them: rounded to a tenth, silence and NaN as null (JSON has no infinity).</summary>
    internal static SpeakerStatus ForJson(SpeakerStatus speaker) =>
        speaker with { LevelDbfs = Dbfs(speaker.LevelDbfs), RmsDbfs = Dbfs(speaker.RmsDbfs) };

    private static InputStatus Input(Audio.AudioInputState input) => new(input.Input, input.PhaseName, input.Since, input.Detail);

    private static CostStatus Costs(CostReading reading) => new(
        [.. reading.Languages.Select(l => new LanguageCostStatus(
            l.Language,
            l.Model,
            l.Usage.AudioInputTokens,
            l.Usage.CachedAudioInputTokens + l.Usage.CachedTextInputTokens,
            l.Usage.TextInputTokens,
            l.Usage.TextOutputTokens,
            Round(l.Cost),
            Round(l.CostPerHour),
            l.Running))],
        Math.Round(reading.Total, 4),
        Math.Round(reading.PerHour, 4),
        reading.Currency,
        reading.PricesAsOf);

    private static decimal? Round(decimal? amount) => amount is { } a ? Math.Round(a, 4) : null;

    /// <summary>A level for JSON: silence (negative infinity) and NaN have no JSON number, so they become null.</summary>
    internal static double? Dbfs(double? level) => level is { } l && double.IsFinite(l) ? Math.Round(l, 1) : null;

    public IReadOnlyList<LanguageState> GetLanguages() =>
        [.. switchboard.Languages.Select(l => new LanguageState(l.Language.Code, l.Name, l.Enabled, l.Language.IsSource, pipeline.IsRunning(l.Language.Code)))];

    public async Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken) =>
        await switchboard.SetEnabledAsync(code, enabled, cancellationToken) == LanguageChange.Applied;

    public Task ClearCaptionsAsync(CancellationToken cancellationToken)
    {
        pipeline.ClearCaptions();
        return Task.CompletedTask;
    }

    public Task ShowTestCaptionAsync(CancellationToken cancellationToken)
    {
        pipeline.ShowTestLine();
        return Task.CompletedTask;
    }
}
