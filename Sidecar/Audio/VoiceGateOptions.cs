namespace CaptionSidecar.Audio;

/// <summary>
/// The local voice gate (<see cref="VoiceGate"/>): holds silence back from the paid Realtime sessions. Bound from
/// <c>Audio:VoiceGate</c>; <c>--no-voice-gate</c> turns it off. Checked at start (see the audio options validator).
/// </summary>
public sealed class VoiceGateOptions
{
    /// <summary>Whether the gate runs. Default true. Always off with manual turn detection.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A chunk quieter than this (speech-band RMS, dBFS) never counts as voice. Default -50.</summary>
    public double MinimumLevelDbfs { get; set; } = VoiceGateSettings.DefaultMinimumLevelDbfs;

    /// <summary>How far above the adaptive noise floor a chunk must be to count as voice, in dB. Default 10.</summary>
    public double AboveNoiseFloorDb { get; set; } = VoiceGateSettings.DefaultAboveNoiseFloorDb;

    /// <summary>Voice needed without a break before the gate opens, in ms (a click is shorter). Default 60.</summary>
    public int OnsetMilliseconds { get; set; } = VoiceGateSettings.DefaultOnsetMilliseconds;

    /// <summary>
    /// Audio before the voice that is sent when the gate opens, in ms, so the server's VAD hears the onset of speech
    /// (its own <c>prefix_padding_ms</c> is 300). Default 300.
    /// </summary>
    public int PreRollMilliseconds { get; set; } = VoiceGateSettings.DefaultPreRollMilliseconds;

    /// <summary>
    /// Audio still sent after the voice ends, in ms. Unset (the default) derives it from the Realtime turn detection:
    /// the silence the server's VAD needs to end a turn (server VAD: <c>SilenceDurationMs</c> + 500; semantic VAD:
    /// 2.5 / 4.5 / 8.5 s for high / medium or auto / low eagerness). A shorter value can cut a turn's end.
    /// </summary>
    public int? HangoverMilliseconds { get; set; }
}
