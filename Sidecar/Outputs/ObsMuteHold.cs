using CaptionSidecar.Audio;
using CaptionSidecar.ObsBridge;

namespace CaptionSidecar.Outputs;

/// <summary>
/// The audio hold of <c>--obs-mute-source</c>: audio is held while OBS reports the input muted. An unknown state (OBS
/// never reached, input missing) does not hold; a state known before OBS became unreachable is kept (see
/// <see cref="ObsInputMuteWatch"/>), so a streamer who muted stays muted while OBS restarts.
/// </summary>
internal sealed class ObsMuteHold : IAudioHold
{
    private readonly ObsInputMuteWatch _watch;

    /// <summary>Creates the hold over <paramref name="watch"/> and starts the watch.</summary>
    public ObsMuteHold(ObsInputMuteWatch watch)
    {
        ArgumentNullException.ThrowIfNull(watch);
        _watch = watch;
        _watch.Start();
    }

    public bool IsHeld => _watch.State == ObsMuteState.Muted;

    public string Reason => $"OBS input '{_watch.InputName}' is muted";
}
