using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Runtime.Versioning;

namespace CaptionSidecar.Audio.Wasapi;

// Core Audio COM interfaces, declared with source-generated COM. The vtable is the declaration order, so every
// interface lists ALL its methods (used or not) exactly in the order of the Windows SDK headers mmdeviceapi.h,
// audioclient.h and propsys.h; WasapiInteropTests checks the order and the IIDs against a transcription of them.
// Every method keeps its HRESULT ([PreserveSig]) so device loss is seen as a code, not a stray exception; interface
// pointers come back as raw pointers and are wrapped as unique instances (WasapiCom.Wrap) so they can be released
// deterministically when a stream is reopened.

/// <summary>mmdeviceapi.h: MMDeviceEnumerator's interface.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface(StringMarshalling = StringMarshalling.Utf16)]
[Guid("A95664D2-9614-4F35-A746-DE8DB63617E6")]
internal partial interface IMMDeviceEnumerator
{
    [PreserveSig]
    int EnumAudioEndpoints(int dataFlow, uint stateMask, out nint devices);

    [PreserveSig]
    int GetDefaultAudioEndpoint(int dataFlow, int role, out nint endpoint);

    [PreserveSig]
    int GetDevice(string id, out nint device);

    [PreserveSig]
    int RegisterEndpointNotificationCallback(nint client);

    [PreserveSig]
    int UnregisterEndpointNotificationCallback(nint client);
}

/// <summary>mmdeviceapi.h: a list of endpoints.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface]
[Guid("0BD7A1BE-7A1A-44DB-8397-CC5392387B5E")]
internal partial interface IMMDeviceCollection
{
    [PreserveSig]
    int GetCount(out uint count);

    [PreserveSig]
    int Item(uint index, out nint device);
}

/// <summary>mmdeviceapi.h: one audio endpoint.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface]
[Guid("D666063F-1587-4E43-81F1-B948E807363F")]
internal partial interface IMMDevice
{
    [PreserveSig]
    int Activate(in Guid iid, uint classContext, nint activationParams, out nint instance);

    [PreserveSig]
    int OpenPropertyStore(uint storageAccess, out nint properties);

    [PreserveSig]
    int GetId(out nint id);

    [PreserveSig]
    int GetState(out uint state);
}

/// <summary>propsys.h: an endpoint's properties.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface]
[Guid("886D8EEB-8CF2-4446-8D02-CDBA1DBDCF99")]
internal partial interface IPropertyStore
{
    [PreserveSig]
    int GetCount(out uint count);

    [PreserveSig]
    int GetAt(uint index, out PropertyKey key);

    [PreserveSig]
    int GetValue(in PropertyKey key, out PropVariant value);

    [PreserveSig]
    int SetValue(in PropertyKey key, in PropVariant value);

    [PreserveSig]
    int Commit();
}

/// <summary>audioclient.h: a stream on an endpoint.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface]
[Guid("1CB9AD4C-DBFA-4C32-B178-C2F568A703B2")]
internal partial interface IAudioClient
{
    [PreserveSig]
    int Initialize(int shareMode, uint streamFlags, long bufferDuration, long periodicity, nint format, nint audioSessionGuid);

    [PreserveSig]
    int GetBufferSize(out uint bufferFrames);

    [PreserveSig]
    int GetStreamLatency(out long latency);

    [PreserveSig]
    int GetCurrentPadding(out uint paddingFrames);

    [PreserveSig]
    int IsFormatSupported(int shareMode, nint format, out nint closestMatch);

    [PreserveSig]
    int GetMixFormat(out nint deviceFormat);

    [PreserveSig]
    int GetDevicePeriod(out long defaultPeriod, out long minimumPeriod);

    [PreserveSig]
    int Start();

    [PreserveSig]
    int Stop();

    [PreserveSig]
    int Reset();

    [PreserveSig]
    int SetEventHandle(nint eventHandle);

    [PreserveSig]
    int GetService(in Guid iid, out nint service);
}

/// <summary>audioclient.h: reads a capture stream's packets.</summary>
[SupportedOSPlatform("windows")]
[GeneratedComInterface]
[Guid("C8ADBD64-E71E-48A0-A4DE-185C395CD317")]
internal partial interface IAudioCaptureClient
{
    [PreserveSig]
    int GetBuffer(out nint data, out uint frames, out uint flags, out ulong devicePosition, out ulong performanceCounterPosition);

    [PreserveSig]
    int ReleaseBuffer(uint frames);

    [PreserveSig]
    int GetNextPacketSize(out uint frames);
}

/// <summary>wtypes.h PROPERTYKEY.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PropertyKey
{
    public Guid FormatId;
    public uint PropertyId;
}

/// <summary>
/// propidl.h PROPVARIANT: a 2-byte type tag, three reserved words, then a union of at most two pointers (16 bytes on
/// 32-bit, 24 on 64-bit). Only VT_LPWSTR is read; PropVariantClear frees whatever it holds.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PropVariant
{
    public ushort VariantType;
    public ushort Reserved1;
    public ushort Reserved2;
    public ushort Reserved3;
    public nint Value;
    public nint Value2;
}

/// <summary>
/// Constants of mmdeviceapi.h, audiosessiontypes.h, objbase.h and functiondiscoverykeys_devpkey.h (plain data,
/// checked against the headers on any OS), and the Win32 calls (Windows only).
/// </summary>
internal static partial class WasapiNative
{
    public const int RenderFlow = 0; // eRender
    public const int CaptureFlow = 1; // eCapture
    public const int ConsoleRole = 0; // eConsole
    public const uint DeviceStateActive = 0x1; // DEVICE_STATE_ACTIVE
    public const uint ClassContextAll = 0x17; // CLSCTX_INPROC_SERVER | INPROC_HANDLER | LOCAL_SERVER | REMOTE_SERVER
    public const uint StorageRead = 0; // STGM_READ
    public const int SharedMode = 0; // AUDCLNT_SHAREMODE_SHARED
    public const uint StreamFlagsLoopback = 0x00020000; // AUDCLNT_STREAMFLAGS_LOOPBACK
    public const uint StreamFlagsEventCallback = 0x00040000; // AUDCLNT_STREAMFLAGS_EVENTCALLBACK
    public const uint StreamFlagsNoPersist = 0x00080000; // AUDCLNT_STREAMFLAGS_NOPERSIST
    public const uint StreamFlagsSrcDefaultQuality = 0x08000000; // AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY
    public const uint StreamFlagsAutoConvertPcm = 0x80000000; // AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM
    public const uint CoInitMultithreaded = 0x0; // COINIT_MULTITHREADED
    public const int ChangedMode = unchecked((int)0x80010106); // RPC_E_CHANGED_MODE
    public const ushort VariantTypeLpwstr = 31; // VT_LPWSTR
    public const uint WaitObject0 = 0x0; // WAIT_OBJECT_0
    public const uint WaitTimeout = 0x102; // WAIT_TIMEOUT

    /// <summary>CLSID_MMDeviceEnumerator.</summary>
    public static readonly Guid DeviceEnumeratorClassId = new("BCDE0395-E52F-467C-8E3D-C4579291692E");

    /// <summary>IID_IMMDeviceEnumerator.</summary>
    public static readonly Guid DeviceEnumeratorId = typeof(IMMDeviceEnumerator).GUID;

    /// <summary>IID_IAudioClient.</summary>
    public static readonly Guid AudioClientId = typeof(IAudioClient).GUID;

    /// <summary>IID_IAudioCaptureClient.</summary>
    public static readonly Guid AudioCaptureClientId = typeof(IAudioCaptureClient).GUID;

    /// <summary>PKEY_Device_FriendlyName: {a45c254e-df1c-4efd-8020-67d146a850e0}, 14.</summary>
    public static readonly PropertyKey DeviceFriendlyName = new() { FormatId = new("A45C254E-DF1C-4EFD-8020-67D146A850E0"), PropertyId = 14 };

    [SupportedOSPlatform("windows")]
    [LibraryImport("ole32.dll")]
    public static partial int CoInitializeEx(nint reserved, uint concurrencyModel);

    [SupportedOSPlatform("windows")]
    [LibraryImport("ole32.dll")]
    public static partial void CoUninitialize();

    [SupportedOSPlatform("windows")]
    [LibraryImport("ole32.dll")]
    public static partial int CoCreateInstance(in Guid classId, nint outer, uint classContext, in Guid iid, out nint instance);

    [SupportedOSPlatform("windows")]
    [LibraryImport("ole32.dll")]
    public static partial int PropVariantClear(ref PropVariant value);

    [SupportedOSPlatform("windows")]
    [LibraryImport("kernel32.dll", SetLastError = true)]
    public static partial nint CreateEventW(nint attributes, [MarshalAs(UnmanagedType.Bool)] bool manualReset, [MarshalAs(UnmanagedType.Bool)] bool initialState, nint name);

    [SupportedOSPlatform("windows")]
    [LibraryImport("kernel32.dll", SetLastError = true)]
    public static partial uint WaitForSingleObject(nint handle, uint milliseconds);

    [SupportedOSPlatform("windows")]
    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    public static partial bool CloseHandle(nint handle);
}
