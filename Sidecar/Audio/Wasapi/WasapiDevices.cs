using System.Runtime.Versioning;
using NAudio.CoreAudioApi;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// Lists the active capture endpoints and, as loopback inputs, the active render endpoints (what the PC plays), with
/// each one's shared-mode mix format, through NAudio's <see cref="MMDeviceEnumerator"/>.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WasapiDevices
{
    /// <summary>Lists the inputs; the default capture endpoint is marked.</summary>
    /// <exception cref="IOException">The endpoints cannot be enumerated; the message says why.</exception>
    public static IReadOnlyList<AudioDevice> List()
    {
        // A thread of our own in the multithreaded apartment: the caller's apartment (perhaps single-threaded) is left alone.
        List<AudioDevice>? devices = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                devices = Query();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        { IsBackground = true, Name = "WASAPI device list" };
        thread.SetApartmentState(ApartmentState.MTA);
        thread.Start();
        thread.Join();
        return failure switch
        {
            null => devices!,
            _ when WindowsAudioEndpoints.IsAudioFailure(failure) => throw WindowsAudioEndpoints.Failure("listing the audio endpoints", failure),
            _ => throw new IOException($"Listing the Windows audio endpoints failed: {failure.Message}", failure),
        };
    }

    private static List<AudioDevice> Query()
    {
        using var enumerator = new MMDeviceEnumerator();
        var defaultId = enumerator.TryGetDefaultAudioEndpoint(DataFlow.Capture, Role.Console, out var defaultDevice) ? defaultDevice.ID : null;
        defaultDevice?.Dispose();
        var devices = new List<AudioDevice>();
        foreach (var (id, name, rate, channels) in Endpoints(enumerator, DataFlow.Capture))
        {
            devices.Add(new AudioDevice(id, name, id == defaultId, rate, channels, IsMonitor: false));
        }

        foreach (var (id, name, rate, channels) in Endpoints(enumerator, DataFlow.Render))
        {
            devices.Add(new AudioDevice(WindowsAudioEndpoints.LoopbackId(id), $"{name} (loopback)", false, rate, channels, IsMonitor: true));
        }

        return devices;
    }

    private static List<(string Id, string Name, int Rate, int Channels)> Endpoints(MMDeviceEnumerator enumerator, DataFlow flow)
    {
        var endpoints = new List<(string, string, int, int)>();
        using var collection = enumerator.EnumerateAudioEndPoints(flow, DeviceState.Active);
        foreach (var device in collection)
        {
            using (device)
            {
                var (rate, channels) = MixFormat(device);
                endpoints.Add((device.ID, device.FriendlyName, rate, channels));
            }
        }

        return endpoints;
    }

    // A device whose format cannot be read is still listed (rate and channels 0): opening it then says why.
    private static (int Rate, int Channels) MixFormat(MMDevice device)
    {
        try
        {
            using var client = device.CreateAudioClient();
            var format = CaptureFormat.From(client.MixFormat);
            return (format.SampleRate, format.Channels);
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex) || ex is AudioFormatException)
        {
            return (0, 0);
        }
    }
}
