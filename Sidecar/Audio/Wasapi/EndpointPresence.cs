using System.Runtime.Versioning;
using NAudio.CoreAudioApi;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// Whether a named endpoint is still there, asked at most once per <see cref="Interval"/> from the capture thread.
/// Windows usually reports an unplugged device to the open stream (AUDCLNT_E_DEVICE_INVALIDATED), but not every
/// audio stack does: Wine's PulseAudio driver keeps delivering silence after its source is gone. Asking the device
/// list turns either into the loss <see cref="CaptureLoop"/> reopens from, so capture comes back when the device does.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class EndpointPresence(string endpointId, string name, TimeProvider time)
{
    /// <summary>How often the device list is asked: cheap (one COM lookup), and a second is soon enough to notice.</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private long _checked = time.GetTimestamp();

    /// <summary>The loss to report when the endpoint is gone or no longer active; null while it is there (or not yet due).</summary>
    public IOException? Check()
    {
        if (time.GetElapsedTime(_checked) < Interval)
        {
            return null;
        }

        _checked = time.GetTimestamp();
        try
        {
            using var enumerator = new MMDeviceEnumerator();
            using var device = enumerator.GetDevice(endpointId);
            return device.State == DeviceState.Active
                ? null
                : new IOException($"{name} is no longer an active audio device (Windows lists it as {Describe(device.State)})");
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            return WindowsAudioEndpoints.Failure($"looking up {name}", ex);
        }
    }

    private static string Describe(DeviceState state) => state switch
    {
        DeviceState.Disabled => "disabled",
        DeviceState.NotPresent => "not present",
        DeviceState.Unplugged => "unplugged",
        _ => state.ToString(),
    };
}
