using System.Runtime.InteropServices;

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

    /// <summary>AUDCLNT_E_WRONG_ENDPOINT_TYPE: loopback asked of a capture endpoint, or of an audio system without loopback (Wine 8).</summary>
    public const int WrongEndpointType = unchecked((int)0x88890003);

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

    /// <summary>
    /// True for what a failed Core Audio call throws through NAudio: a <see cref="ExternalException"/> (NAudio's
    /// <c>CoreAudioException</c> is a <see cref="COMException"/>) or the exceptions
    /// <see cref="Marshal.ThrowExceptionForHR(int)"/> turns some HRESULTs into (E_ACCESSDENIED, E_NOTIMPL,
    /// E_NOINTERFACE), or a missing entry point of an older Windows. Programming errors are not.
    /// </summary>
    public static bool IsAudioFailure(Exception exception) =>
        exception is ExternalException or UnauthorizedAccessException or NotImplementedException or InvalidCastException or EntryPointNotFoundException;

    /// <summary>
    /// The <see cref="IOException"/> the capture seam promises for a failed Core Audio call: <paramref name="what"/>
    /// failed, with the HRESULT in words (<see cref="Describe"/>) and the original as inner exception.
    /// </summary>
    /// <param name="what">The call or the object, for the message ("IAudioClient::Initialize", "the default input").</param>
    /// <param name="exception">What NAudio threw.</param>
    /// <param name="loopback">True when a loopback stream was asked for: AUDCLNT_E_WRONG_ENDPOINT_TYPE then means the audio system has no loopback.</param>
    public static IOException Failure(string what, Exception exception, bool loopback = false)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var words = loopback && exception.HResult == WrongEndpointType
            ? "this audio system does not capture what an output plays (AUDCLNT_E_WRONG_ENDPOINT_TYPE; Wine has no loopback capture); capture an input instead"
            : Describe(exception.HResult);
        return new IOException($"WASAPI: {what} failed: {words}.", exception);
    }

    /// <summary>
    /// The <see cref="IOException"/> for a per-process loopback (<c>--input process:NAME</c>) that Windows would not
    /// activate: its HRESULT in words, and that it needs Windows 10 version 2004 or later (Wine 8 has none: told it is
    /// Windows 10 build 19041, it answers 0x80070002, ERROR_FILE_NOT_FOUND, for the process-loopback device).
    /// </summary>
    public static IOException ProcessLoopbackFailure(string processName, uint processId, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var cause = exception is EntryPointNotFoundException
            ? "this Windows has no ActivateAudioInterfaceAsync"
            : Describe(exception.HResult);
        return new IOException(
            $"--input process:{processName}: Windows refused to capture the sound of process {processId}: {cause}. " +
            "Capturing one program's sound needs Windows 10 version 2004 or later (Wine has no per-process loopback); " +
            "capture the output it plays on instead (a loopback in 'CaptionSidecar devices').",
            exception);
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
        _ => Known(hresult) is { } known ? $"{known} (0x{hresult:X8})" : Win32Text(hresult) ?? $"an unknown error (HRESULT 0x{hresult:X8})",
    };

    /// <summary>Other codes Core Audio and COM return, in words with their SDK names.</summary>
    private static string? Known(int hresult) => unchecked((uint)hresult) switch
    {
        0x88890001 => "the audio stream was not initialised (AUDCLNT_E_NOT_INITIALIZED)",
        0x88890002 => "the audio stream was already initialised (AUDCLNT_E_ALREADY_INITIALIZED)",
        0x88890003 => "the endpoint cannot do this: loopback needs an output device, capture an input device (AUDCLNT_E_WRONG_ENDPOINT_TYPE)",
        0x88890005 => "the audio stream was not stopped (AUDCLNT_E_NOT_STOPPED)",
        0x88890006 => "the requested audio buffer is too large (AUDCLNT_E_BUFFER_TOO_LARGE)",
        0x88890007 => "audio buffer calls came out of order (AUDCLNT_E_OUT_OF_ORDER)",
        0x88890009 => "the audio buffer size is invalid (AUDCLNT_E_INVALID_SIZE)",
        0x8889000B => "an audio buffer operation is still pending (AUDCLNT_E_BUFFER_OPERATION_PENDING)",
        0x8889000C => "the audio thread is not registered (AUDCLNT_E_THREAD_NOT_REGISTERED)",
        0x8889000E => "exclusive mode is not allowed on this device (AUDCLNT_E_EXCLUSIVE_MODE_NOT_ALLOWED)",
        0x8889000F => "Windows could not create the audio endpoint (AUDCLNT_E_ENDPOINT_CREATE_FAILED)",
        0x88890011 => "the audio stream does not expect an event handle (AUDCLNT_E_EVENTHANDLE_NOT_EXPECTED)",
        0x88890013 => "the buffer duration and period differ (AUDCLNT_E_BUFDURATION_PERIOD_NOT_EQUAL)",
        0x88890014 => "no event handle was set for the audio stream (AUDCLNT_E_EVENTHANDLE_NOT_SET)",
        0x88890016 => "the audio buffer size is wrong (AUDCLNT_E_BUFFER_SIZE_ERROR)",
        0x88890018 => "the audio engine could not hand out a buffer (AUDCLNT_E_BUFFER_ERROR)",
        0x88890020 => "the device period is invalid (AUDCLNT_E_INVALID_DEVICE_PERIOD)",
        0x88890026 => "the audio resources were invalidated, for example by a driver update (AUDCLNT_E_RESOURCES_INVALIDATED)",
        0x80070002 => "the system knows no such audio interface (ERROR_FILE_NOT_FOUND)",
        0x80004001 => "not implemented by this driver (E_NOTIMPL)",
        0x80004002 => "the interface is not supported (E_NOINTERFACE)",
        0x80004003 => "an invalid pointer was passed (E_POINTER)",
        0x80004005 => "the call failed without saying why (E_FAIL)",
        0x8007000E => "out of memory (E_OUTOFMEMORY)",
        0x80070057 => "an argument was invalid (E_INVALIDARG)",
        0x800401F0 => "COM was not initialised on the capture thread (CO_E_NOTINITIALIZED)",
        0x80040154 => "the audio component is not registered: Windows audio may be damaged (REGDB_E_CLASSNOTREG)",
        _ => null,
    };

    /// <summary>A Win32 error wrapped in an HRESULT (facility 7), in the system's words; null elsewhere.</summary>
    private static string? Win32Text(int hresult)
    {
        if (!OperatingSystem.IsWindows() || (hresult & unchecked((int)0xFFFF0000)) != unchecked((int)0x80070000))
        {
            return null;
        }

        var code = hresult & 0xFFFF;
        return $"{Marshal.GetPInvokeErrorMessage(code).TrimEnd('.', ' ', '\r', '\n')} (Windows error {code}, HRESULT 0x{hresult:X8})";
    }
}
