namespace CaptionSidecar.Audio;

/// <summary>
/// Something outside the audio path that may forbid sending audio to the sessions (for privacy: the streamer's
/// microphone is muted in OBS). Read once per chunk, from the pipeline's thread: keep it cheap and non-blocking.
/// </summary>
public interface IAudioHold
{
    /// <summary>True while no audio may reach any session.</summary>
    bool IsHeld { get; }

    /// <summary>Why the audio is held, in words for the log (for example "OBS input 'Mic/Aux' is muted").</summary>
    string Reason { get; }
}

/// <summary>A hold for the audio pipeline and the silence that closes the turn in progress when it starts.</summary>
/// <param name="Hold">What decides, chunk by chunk, whether audio is held.</param>
/// <param name="ClosingSilence">Digital silence sent in place of the audio when the hold starts, so the server's
/// VAD ends the turn in progress and its last words are captioned (the Realtime turn-ending silence).</param>
public sealed record AudioHoldSettings(IAudioHold Hold, TimeSpan ClosingSilence);
