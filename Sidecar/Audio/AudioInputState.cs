namespace CaptionSidecar.Audio;

/// <summary>Where the audio input is in its life, as <c>/api/status</c> shows it.</summary>
public enum AudioInputPhase
{
    /// <summary>Being opened: a FIFO stays here until something opens it for writing.</summary>
    Opening,

    /// <summary>Open, but no audio has arrived yet (a silent stdin, a FIFO whose writer has not written).</summary>
    WaitingForAudio,

    /// <summary>Audio arrives.</summary>
    Receiving,

    /// <summary>The input ended (end of file, stdin closed, the command finished).</summary>
    Ended,

    /// <summary>The input could not be opened or failed while reading; <see cref="AudioInputState.Detail"/> says why.</summary>
    Failed,
}

/// <summary>What the audio input is doing, for status and logs.</summary>
/// <param name="Input">The input as given (<c>file:/path</c>, <c>stdin</c>, <c>cmd:...</c>, <c>device:...</c>).</param>
/// <param name="Phase">Where it is.</param>
/// <param name="Since">When it entered the phase (or, for <see cref="AudioInputPhase.WaitingForAudio"/> and
/// <see cref="AudioInputPhase.Receiving"/>, when it opened).</param>
/// <param name="Detail">A sentence for people: what is waited for, or why it failed; null when there is nothing to add.</param>
public sealed record AudioInputState(string Input, AudioInputPhase Phase, DateTimeOffset Since, string? Detail = null)
{
    /// <summary>The phase as <c>/api/status</c> and <c>/api/speakers</c> name it: <c>opening</c>, <c>waiting-for-audio</c>, <c>receiving</c>, <c>ended</c> or <c>failed</c>.</summary>
    public string PhaseName => Phase switch
    {
        AudioInputPhase.Opening => "opening",
        AudioInputPhase.WaitingForAudio => "waiting-for-audio",
        AudioInputPhase.Receiving => "receiving",
        AudioInputPhase.Ended => "ended",
        _ => "failed",
    };
}
