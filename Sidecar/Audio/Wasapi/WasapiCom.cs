using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Runtime.Versioning;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>COM plumbing for the WASAPI classes: apartment setup, wrapping and releasing pointers, HRESULT checks.</summary>
[SupportedOSPlatform("windows")]
internal static class WasapiCom
{
    private static readonly StrategyBasedComWrappers Wrappers = new();

    /// <summary>Joins the calling thread to the multithreaded apartment; disposing leaves it (on the same thread).</summary>
    /// <exception cref="IOException">COM cannot be initialised.</exception>
    public static IDisposable EnterMultithreadedApartment()
    {
        var hr = WasapiNative.CoInitializeEx(0, WasapiNative.CoInitMultithreaded);
        if (hr == WasapiNative.ChangedMode)
        {
            // The thread is already in a single-threaded apartment (a host's UI thread): COM works there too, and
            // that initialisation is not ours to undo.
            return Apartment.Borrowed;
        }

        Check(hr, "CoInitializeEx");
        return new Apartment();
    }

    /// <summary>Creates the MMDevice enumerator.</summary>
    public static IMMDeviceEnumerator CreateEnumerator()
    {
        Check(
            WasapiNative.CoCreateInstance(WasapiNative.DeviceEnumeratorClassId, 0, WasapiNative.ClassContextAll, WasapiNative.DeviceEnumeratorId, out var pointer),
            "CoCreateInstance(MMDeviceEnumerator)");
        return Wrap<IMMDeviceEnumerator>(pointer);
    }

    /// <summary>The endpoint with <paramref name="id"/>, or the default one of <paramref name="flow"/> when null.</summary>
    public static IMMDevice GetEndpoint(IMMDeviceEnumerator enumerator, string? id, int flow)
    {
        nint pointer;
        if (id is null)
        {
            Check(enumerator.GetDefaultAudioEndpoint(flow, WasapiNative.ConsoleRole, out pointer), flow == WasapiNative.CaptureFlow ? "the default input" : "the default output");
        }
        else
        {
            Check(enumerator.GetDevice(id, out pointer), $"endpoint {id}");
        }

        return Wrap<IMMDevice>(pointer);
    }

    /// <summary>The endpoint's id, the string <c>IMMDeviceEnumerator::GetDevice</c> takes.</summary>
    public static string GetId(IMMDevice device)
    {
        Check(device.GetId(out var text), "IMMDevice::GetId");
        try
        {
            return Marshal.PtrToStringUni(text) ?? string.Empty;
        }
        finally
        {
            Marshal.FreeCoTaskMem(text);
        }
    }

    /// <summary>The name Windows' sound settings show for the endpoint (PKEY_Device_FriendlyName), or its id.</summary>
    public static string GetFriendlyName(IMMDevice device)
    {
        Check(device.OpenPropertyStore(WasapiNative.StorageRead, out var storePointer), "IMMDevice::OpenPropertyStore");
        var store = Wrap<IPropertyStore>(storePointer);
        try
        {
            Check(store.GetValue(WasapiNative.DeviceFriendlyName, out var value), "IPropertyStore::GetValue(FriendlyName)");
            try
            {
                return value.VariantType == WasapiNative.VariantTypeLpwstr ? Marshal.PtrToStringUni(value.Value) ?? GetId(device) : GetId(device);
            }
            finally
            {
                WasapiNative.PropVariantClear(ref value);
            }
        }
        finally
        {
            Release(store);
        }
    }

    /// <summary>The endpoint's shared-mode mix format as <c>WAVEFORMATEX</c> bytes (18 + cbSize).</summary>
    public static byte[] GetMixFormat(IAudioClient client)
    {
        Check(client.GetMixFormat(out var pointer), "IAudioClient::GetMixFormat");
        try
        {
            var extra = (ushort)Marshal.ReadInt16(pointer, 16);
            var bytes = new byte[CaptureFormat.WaveFormatExSize + extra];
            Marshal.Copy(pointer, bytes, 0, bytes.Length);
            return bytes;
        }
        finally
        {
            Marshal.FreeCoTaskMem(pointer);
        }
    }

    /// <summary>Activates an <see cref="IAudioClient"/> on the endpoint.</summary>
    public static IAudioClient ActivateAudioClient(IMMDevice device)
    {
        Check(device.Activate(WasapiNative.AudioClientId, WasapiNative.ClassContextAll, 0, out var pointer), "IMMDevice::Activate(IAudioClient)");
        return Wrap<IAudioClient>(pointer);
    }

    /// <summary>Wraps a COM pointer this code owns as a unique instance and gives up the raw reference.</summary>
    public static T Wrap<T>(nint pointer)
        where T : class
    {
        try
        {
            return (T)Wrappers.GetOrCreateObjectForComInstance(pointer, CreateObjectFlags.UniqueInstance);
        }
        finally
        {
            Marshal.Release(pointer);
        }
    }

    /// <summary>Releases a wrapper made by <see cref="Wrap{T}"/> now rather than at finalization.</summary>
    public static void Release(object? wrapper)
    {
        if (wrapper is ComObject com)
        {
            com.FinalRelease();
        }
    }

    /// <summary>Throws <see cref="IOException"/> naming <paramref name="what"/> and what the code means when it failed.</summary>
    public static void Check(int hresult, string what)
    {
        if (hresult < 0)
        {
            throw new IOException($"WASAPI: {what} failed: {WindowsAudioEndpoints.Describe(hresult)}.", hresult);
        }
    }

    private sealed class Apartment : IDisposable
    {
        public static readonly IDisposable Borrowed = new BorrowedApartment();
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                WasapiNative.CoUninitialize();
            }
        }

        private sealed class BorrowedApartment : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}
