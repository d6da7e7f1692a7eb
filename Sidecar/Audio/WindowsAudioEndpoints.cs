namespace CaptionSidecar.Audio;

/// <summary>
/// The platform-neutral half of Windows capture: how endpoints are named for <c>--input device:ID</c> and what a
/// failed WASAPI call tells the streamer. Kept apart from the COM code so it is tested on any OS.
/// </summary>
internal static class WindowsAudioEndpoints
{
    /// <summary>Marks a render endpoint captured as loopback (what the PC plays) in a device id.</summary>
    public const string LoopbackPrefix = "loopback:";

    /// <summary>AUDCLNT_E_DEVICE_INVALIDATED: the endpoint was unplugged, disabled or its format changed.</summary>
    public const int DeviceInvalidated = unchecked((int)0x88890004);

    /// <summary>AUDCLNT_E_SERVICE_NOT_RUNNING: the Windows Audio service stopped.</summary>
    public const int ServiceNotRunning = unchecked((int)0x88890010);

    /// <summary>AUDCLNT_E_DEVICE_IN_USE: another application holds the endpoint in exclusive mode.</summary>
    public const int DeviceInUse = unchecked((int)0x8889000A);

    /// <summary>AUDCLNT_E_UNSUPPORTED_FORMAT.</summary>
    public const int UnsupportedFormat = unchecked((int)0x88890008);

    /// <summary>AUDCLNT_E_CPUUSAGE_EXCEEDED: the audio engine gave up on the stream.</summary>
    public const int CpuUsageExceeded = unchecked((int)0x88890017);

    /// <summary>AUDCLNT_S_BUFFER_EMPTY: a success code, no packet is ready.</summary>
    public const int BufferEmpty = 0x08890001;

    /// <summary>E_NOTFOUND (HRESULT_FROM_WIN32(ERROR_NOT_FOUND)): no such endpoint, or no default one.</summary>
    public const int NotFound = unchecked((int)0x80070490);

    /// <summary>E_ACCESSDENIED: microphone access is turned off in the privacy settings.</summary>
    public const int AccessDenied = unchecked((int)0x80070005);

    /// <summary>The id <c>--input device:ID</c> takes for the loopback of render endpoint <paramref name="renderEndpointId"/>.</summary>
    public static string LoopbackId(string renderEndpointId) => LoopbackPrefix + renderEndpointId;

    /// <summary>Splits a listed device id into the endpoint id WASAPI knows and whether it is captured as loopback.</summary>
    public static (string EndpointId, bool Loopback) Split(string deviceId)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        return deviceId.StartsWith(LoopbackPrefix, StringComparison.Ordinal)
            ? (deviceId[LoopbackPrefix.Length..], true)
            : (deviceId, false);
    }

    /// <summary>What a failed WASAPI or MMDevice call means for the streamer, with what to do.</summary>
    public static string Describe(int hresult) => hresult switch
    {
        DeviceInvalidated => "the device was unplugged, disabled or reconfigured (AUDCLNT_E_DEVICE_INVALIDATED)",
        ServiceNotRunning => "the Windows Audio service is not running (AUDCLNT_E_SERVICE_NOT_RUNNING); start it in services.msc",
        DeviceInUse => "another application uses the device in exclusive mode (AUDCLNT_E_DEVICE_IN_USE); untick 'Allow applications to take exclusive control' in the device's properties",
        UnsupportedFormat => "the device refused the capture format (AUDCLNT_E_UNSUPPORTED_FORMAT)",
        CpuUsageExceeded => "the audio engine stopped the stream because the CPU was overloaded (AUDCLNT_E_CPUUSAGE_EXCEEDED)",
        NotFound => "no such audio endpoint, or no default one (E_NOTFOUND); list them with 'CaptionSidecar devices'",
        AccessDenied => "Windows denied access to the microphone (E_ACCESSDENIED); allow desktop apps to access your microphone in Settings > Privacy & security > Microphone",
        _ => $"HRESULT 0x{hresult:X8}",
    };
}
