using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;

namespace CaptionSidecar.Hosting;

/// <summary>
/// Whether the local voice gate runs, with what settings, and why (logged at start). The gate sits in the audio
/// pipeline, which only an engine that takes audio creates: the test pattern has no audio path, so no gate either.
/// </summary>
/// <param name="Settings">The gate's settings, or null when it is off.</param>
/// <param name="Reason">One sentence for the log: what the gate does, or why it is off.</param>
public sealed record VoiceGateChoice(VoiceGateSettings? Settings, string Reason)
{
    /// <summary>
    /// Decides from the options. The hangover (audio still sent after the voice ends) is the silence the server's
    /// VAD needs to end a turn, the same numbers the session appends at the end of input: server VAD
    /// <c>silence_duration_ms</c> + 500 ms; semantic VAD 2.5 / 4.5 / 8.5 s for high / medium or auto / low eagerness.
    /// </summary>
    public static VoiceGateChoice Resolve(AudioOptions audio, RealtimeOptions realtime)
    {
        ArgumentNullException.ThrowIfNull(audio);
        ArgumentNullException.ThrowIfNull(realtime);
        var gate = audio.VoiceGate ?? new VoiceGateOptions();
        if (!gate.Enabled)
        {
            return new(null, "The voice gate is off (--no-voice-gate or Audio:VoiceGate:Enabled false): every chunk goes to the sessions.");
        }

        if (realtime.TurnDetection == TurnDetectionMode.Manual)
        {
            // Manual turns are committed every Realtime:ManualCommitSeconds of audio the session receives: with silence
            // held back, the end of an utterance would wait, uncommitted and uncaptioned, until someone speaks again.
            return new(null, "The voice gate is off with manual turn detection: manual turns are cut by the amount of audio sent, so held-back silence would delay the last words until the next speech.");
        }

        var settings = VoiceGateSettings.From(gate, realtime.TurnEndingSilence);
        var hangoverSource = gate.HangoverMilliseconds is null ? $"from {realtime.TurnDetection} turn detection" : "Audio:VoiceGate:HangoverMilliseconds";
        return new(settings, FormattableString.Invariant(
            $"The voice gate holds silence back from the sessions: voice above {settings.MinimumLevelDbfs} dBFS and {settings.AboveNoiseFloorDb} dB over the noise floor opens it, with {settings.PreRoll.TotalMilliseconds} ms pre-roll and {settings.Hangover.TotalMilliseconds} ms hangover ({hangoverSource})."));
    }
}
