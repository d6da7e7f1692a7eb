using System.Runtime.Versioning;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// Lists the active capture endpoints and, as loopback inputs, the active render endpoints (what the PC plays), with
/// each one's shared-mode mix format.
/// </summary>
[SupportedOSPlatform("windows")]
internal static class WasapiDevices
{
    /// <summary>Lists the inputs; the default capture endpoint is marked.</summary>
    /// <exception cref="IOException">The endpoints cannot be enumerated; the message says why.</exception>
    public static IReadOnlyList<AudioDevice> List()
    {
        // A thread of our own: the caller's apartment (perhaps single-threaded) is left alone.
        List<AudioDevice>? devices = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (WasapiCom.EnterMultithreadedApartment())
                {
                    devices = Query();
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        })
        { IsBackground = true, Name = "WASAPI device list" };
        thread.Start();
        thread.Join();
        return failure switch
        {
            null => devices!,
            IOException io => throw new IOException(io.Message, io),
            _ => throw new IOException($"Listing the Windows audio endpoints failed: {failure.Message}", failure),
        };
    }

    private static List<AudioDevice> Query()
    {
        var enumerator = WasapiCom.CreateEnumerator();
        try
        {
            var defaultInput = DefaultId(enumerator, WasapiNative.CaptureFlow);
            var devices = new List<AudioDevice>();
            foreach (var (id, name, rate, channels) in Endpoints(enumerator, WasapiNative.CaptureFlow))
            {
                devices.Add(new AudioDevice(id, name, id == defaultInput, rate, channels, IsMonitor: false));
            }

            foreach (var (id, name, rate, channels) in Endpoints(enumerator, WasapiNative.RenderFlow))
            {
                devices.Add(new AudioDevice(WindowsAudioEndpoints.LoopbackId(id), $"{name} (loopback)", false, rate, channels, IsMonitor: true));
            }

            return devices;
        }
        finally
        {
            WasapiCom.Release(enumerator);
        }
    }

    private static string? DefaultId(IMMDeviceEnumerator enumerator, int flow)
    {
        if (enumerator.GetDefaultAudioEndpoint(flow, WasapiNative.ConsoleRole, out var pointer) < 0)
        {
            return null; // no default (no device of that kind): nothing is marked
        }

        var device = WasapiCom.Wrap<IMMDevice>(pointer);
        try
        {
            return WasapiCom.GetId(device);
        }
        finally
        {
            WasapiCom.Release(device);
        }
    }

    private static List<(string Id, string Name, int Rate, int Channels)> Endpoints(IMMDeviceEnumerator enumerator, int flow)
    {
        WasapiCom.Check(enumerator.EnumAudioEndpoints(flow, WasapiNative.DeviceStateActive, out var collectionPointer), "IMMDeviceEnumerator::EnumAudioEndpoints");
        var collection = WasapiCom.Wrap<IMMDeviceCollection>(collectionPointer);
        var endpoints = new List<(string, string, int, int)>();
        try
        {
            WasapiCom.Check(collection.GetCount(out var count), "IMMDeviceCollection::GetCount");
            for (var i = 0u; i < count; i++)
            {
                WasapiCom.Check(collection.Item(i, out var devicePointer), "IMMDeviceCollection::Item");
                var device = WasapiCom.Wrap<IMMDevice>(devicePointer);
                try
                {
                    var (rate, channels) = MixFormat(device);
                    endpoints.Add((WasapiCom.GetId(device), WasapiCom.GetFriendlyName(device), rate, channels));
                }
                finally
                {
                    WasapiCom.Release(device);
                }
            }
        }
        finally
        {
            WasapiCom.Release(collection);
        }

        return endpoints;
    }

    // A device whose format cannot be read is still listed (rate and channels 0): opening it then says why.
    private static (int Rate, int Channels) MixFormat(IMMDevice device)
    {
        IAudioClient? client = null;
        try
        {
            client = WasapiCom.ActivateAudioClient(device);
            var format = CaptureFormat.Parse(WasapiCom.GetMixFormat(client));
            return (format.SampleRate, format.Channels);
        }
        catch (Exception ex) when (ex is IOException or AudioFormatException)
        {
            return (0, 0);
        }
        finally
        {
            WasapiCom.Release(client);
        }
    }
}
