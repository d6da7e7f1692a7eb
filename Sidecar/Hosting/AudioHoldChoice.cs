using CaptionSidecar.Audio;
using CaptionSidecar.Outputs;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Hosting;

/// <summary>
/// Whether audio is held while the streamer's mic is muted in OBS (<c>--obs-mute-source</c>), and why (logged at start).
/// </summary>
/// <param name="Settings">The hold and its closing silence, or null when there is no hold.</param>
/// <param name="Reason">One sentence for the log, or null when the feature was not asked for.</param>
public sealed record AudioHoldChoice(AudioHoldSettings? Settings, string? Reason)
{
    /// <summary>
    /// Decides from the options. The hold needs OBS (not <c>--no-obs</c>) and an engine that hears audio (not the test
    /// pattern); its closing silence is the Realtime turn-ending silence, like the voice gate's hangover.
    /// </summary>
    /// <param name="obs">The OBS settings.</param>
    /// <param name="engine">The engine that runs.</param>
    /// <param name="realtime">The Realtime settings (turn detection).</param>
    /// <param name="createHold">Creates the OBS-backed hold; called only when the hold is on.</param>
    public static AudioHoldChoice Resolve(ObsOptions obs, EngineChoice engine, RealtimeOptions realtime, Func<string, IAudioHold> createHold)
    {
        ArgumentNullException.ThrowIfNull(obs);
        return Resolve(obs.MuteSource, obs, engine, realtime, createHold);
    }

    /// <summary>Decides for one speaker whose OBS mute source is <paramref name="muteSource"/> (null: no hold).</summary>
    public static AudioHoldChoice Resolve(string? muteSource, ObsOptions obs, EngineChoice engine, RealtimeOptions realtime, Func<string, IAudioHold> createHold)
    {
        ArgumentNullException.ThrowIfNull(obs);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(realtime);
        ArgumentNullException.ThrowIfNull(createHold);
        if (string.IsNullOrWhiteSpace(muteSource))
        {
            return new(null, null);
        }

        if (!obs.Enabled)
        {
            return new(null, $"OBS mute source '{muteSource}' is ignored: OBS is off (--no-obs), so its mute state cannot be read.");
        }

        if (engine.Engine != EngineChoice.OpenAi)
        {
            return new(null, $"OBS mute source '{muteSource}' is ignored: the test pattern sends no audio anywhere.");
        }

        var silence = realtime.TurnEndingSilence;
        return new(new AudioHoldSettings(createHold(muteSource), silence), FormattableString.Invariant(
            $"Captioning pauses while OBS input '{muteSource}' is muted: {silence.TotalSeconds} s of silence ends the turn in progress, then no audio goes to the sessions until it is unmuted."));
    }
}
