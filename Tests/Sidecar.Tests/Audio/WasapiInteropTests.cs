using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using CaptionSidecar.Audio.Wasapi;

namespace CaptionSidecar.Tests.Audio;

/// <summary>
/// The Core Audio declarations against a transcription of the Windows SDK headers (mmdeviceapi.h, audioclient.h,
/// propsys.h, functiondiscoverykeys_devpkey.h, audiosessiontypes.h): a source-generated COM interface's vtable is
/// its declaration order after IUnknown's three slots, so a swapped or missing method would call the wrong function
/// on Windows. This cannot run the code (no Windows here) but pins every slot and IID.
/// </summary>
public sealed class WasapiInteropTests
{
    public static TheoryData<string, string, string[]> Headers => new()
    {
        {
            nameof(IMMDeviceEnumerator), "a95664d2-9614-4f35-a746-de8db63617e6",
            ["EnumAudioEndpoints", "GetDefaultAudioEndpoint", "GetDevice", "RegisterEndpointNotificationCallback", "UnregisterEndpointNotificationCallback"]
        },
        { nameof(IMMDeviceCollection), "0bd7a1be-7a1a-44db-8397-cc5392387b5e", ["GetCount", "Item"] },
        { nameof(IMMDevice), "d666063f-1587-4e43-81f1-b948e807363f", ["Activate", "OpenPropertyStore", "GetId", "GetState"] },
        { nameof(IPropertyStore), "886d8eeb-8cf2-4446-8d02-cdba1dbdcf99", ["GetCount", "GetAt", "GetValue", "SetValue", "Commit"] },
        {
            nameof(IAudioClient), "1cb9ad4c-dbfa-4c32-b178-c2f568a703b2",
            ["Initialize", "GetBufferSize", "GetStreamLatency", "GetCurrentPadding", "IsFormatSupported", "GetMixFormat", "GetDevicePeriod", "Start", "Stop", "Reset", "SetEventHandle", "GetService"]
        },
        { nameof(IAudioCaptureClient), "c8adbd64-e71e-48a0-a4de-185c395cd317", ["GetBuffer", "ReleaseBuffer", "GetNextPacketSize"] },
    };

    private static Type Interface(string name) => typeof(WasapiDevice).Assembly.GetType($"CaptionSidecar.Audio.Wasapi.{name}", throwOnError: true)!;

    [Theory]
    [MemberData(nameof(Headers))]
    public void Interface_MethodsInHeaderVtableOrderWithTheHeadersIid(string name, string iid, string[] methods)
    {
        var type = Interface(name);

        Assert.Equal(new Guid(iid), type.GUID);
        var declared = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.IsAbstract)
            .OrderBy(m => m.MetadataToken)
            .Select(m => m.Name);
        Assert.Equal(methods, declared);
    }

    [Theory]
    [MemberData(nameof(Headers))]
    public void Interface_IsSourceGeneratedAndKeepsEveryHresult(string name, string iid, string[] methods)
    {
        var type = Interface(name);

        Assert.NotNull(type.GetCustomAttribute<GeneratedComInterfaceAttribute>());
        Assert.Contains(type.GetCustomAttributes(), a => a.GetType().IsGenericType && a.GetType().GetGenericTypeDefinition() == typeof(IUnknownDerivedAttribute<,>));
        Assert.All(
            methods.Select(m => type.GetMethod(m, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance)!),
            m =>
            {
                Assert.Equal(typeof(int), m.ReturnType);
                Assert.True((m.MethodImplementationFlags & MethodImplAttributes.PreserveSig) != 0, $"{name}.{m.Name} must keep its HRESULT");
            });
        Assert.NotEmpty(iid);
    }

    [Fact]
    public void Constants_MatchTheHeaders()
    {
        Assert.Equal(new Guid("bcde0395-e52f-467c-8e3d-c4579291692e"), WasapiNative.DeviceEnumeratorClassId);
        Assert.Equal(new Guid("a45c254e-df1c-4efd-8020-67d146a850e0"), WasapiNative.DeviceFriendlyName.FormatId);
        Assert.Equal(14u, WasapiNative.DeviceFriendlyName.PropertyId);
        Assert.Equal(0x00020000u, WasapiNative.StreamFlagsLoopback);
        Assert.Equal(0x00040000u, WasapiNative.StreamFlagsEventCallback);
        Assert.Equal(0x00080000u, WasapiNative.StreamFlagsNoPersist);
        Assert.Equal(0x08000000u, WasapiNative.StreamFlagsSrcDefaultQuality);
        Assert.Equal(0x80000000u, WasapiNative.StreamFlagsAutoConvertPcm);
        Assert.Equal((0, 1, 0), (WasapiNative.RenderFlow, WasapiNative.CaptureFlow, WasapiNative.ConsoleRole));
        Assert.Equal(1u, WasapiNative.DeviceStateActive);
        Assert.Equal(0x17u, WasapiNative.ClassContextAll);
        Assert.Equal((ushort)31, WasapiNative.VariantTypeLpwstr);
    }

    [Fact]
    public void NativeStructs_HaveTheHeadersSizes()
    {
        Assert.Equal(20, Marshal.SizeOf<PropertyKey>());
        Assert.Equal(IntPtr.Size == 8 ? 24 : 16, Marshal.SizeOf<PropVariant>());
        Assert.Equal(8, Marshal.OffsetOf<PropVariant>(nameof(PropVariant.Value)).ToInt32());
    }
}
