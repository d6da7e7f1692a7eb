using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CaptionSidecar.Audio;

/// <summary>
/// Lists PulseAudio (or PipeWire-Pulse) sources through libpulse's asynchronous introspection API, driven by a
/// private <c>pa_mainloop</c> on the calling thread.
/// </summary>
[SupportedOSPlatform("linux")]
internal static partial class PulseAudioDevices
{
    // pa_source_info as laid out by libpulse 16 on x86_64 (LP64): name (ptr) @0, index (u32) @8, description (ptr)
    // @16, sample_spec {format i32 @24, rate u32 @28, channels u8 @32}, channel_map (132 bytes) @36, owner_module
    // @168, volume (pa_cvolume, 132 bytes) @172, mute @304, monitor_of_sink (u32) @308. Only these leading fields
    // are read; PulseAudioDevicesTests checks them against pactl.
    internal const int SourceNameOffset = 0;
    internal const int SourceDescriptionOffset = 16;
    internal const int SourceRateOffset = 28;
    internal const int SourceChannelsOffset = 32;
    internal const int SourceMonitorOfSinkOffset = 308;

    // pa_server_info: user_name, host_name, server_version, server_name (ptrs), sample_spec (12 bytes) @32,
    // default_sink_name @48, default_source_name @56.
    private const int ServerDefaultSourceOffset = 56;

    private const uint InvalidIndex = uint.MaxValue; // PA_INVALID_INDEX
    private const int ContextNoAutospawn = 1; // PA_CONTEXT_NOAUTOSPAWN
    private const int ContextReady = 4; // PA_CONTEXT_READY
    private const int ContextFailed = 5; // PA_CONTEXT_FAILED
    private const int ContextTerminated = 6; // PA_CONTEXT_TERMINATED
    private const int OperationRunning = 0; // PA_OPERATION_RUNNING
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SourceInfoCallback(nint context, nint info, int eol, nint userdata);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void ServerInfoCallback(nint context, nint info, nint userdata);

    /// <summary>Lists the sources; the server's default source is marked.</summary>
    /// <exception cref="IOException">PulseAudio is not running, libpulse is missing, or the server did not answer.</exception>
    public static IReadOnlyList<AudioDevice> List()
    {
        try
        {
            return Query();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new IOException("libpulse.so.0 cannot be loaded: install pulseaudio (or pipewire-pulse) and start it.", ex);
        }
    }

    private static List<AudioDevice> Query()
    {
        var mainloop = Native.pa_mainloop_new();
        if (mainloop == 0)
        {
            throw new IOException("libpulse could not create a main loop.");
        }

        nint context = 0;
        try
        {
            context = Native.pa_context_new(Native.pa_mainloop_get_api(mainloop), "CaptionSidecar device list");
            if (context == 0 || Native.pa_context_connect(context, null, ContextNoAutospawn, 0) < 0)
            {
                throw new IOException($"PulseAudio is not running ({ErrorText(context)}): start pulseaudio (or pipewire-pulse), or capture with --input cmd:\"ffmpeg ...\".");
            }

            var stopwatch = Stopwatch.StartNew();
            while (true)
            {
                var state = Native.pa_context_get_state(context);
                if (state == ContextReady)
                {
                    break;
                }

                if (state is ContextFailed or ContextTerminated)
                {
                    throw new IOException($"PulseAudio is not running ({ErrorText(context)}): start pulseaudio (or pipewire-pulse), or capture with --input cmd:\"ffmpeg ...\".");
                }

                Iterate(mainloop, stopwatch);
            }

            var raw = new List<(string Id, string Description, int Rate, int Channels, bool Monitor)>();
            SourceInfoCallback onSource = (_, info, eol, _) =>
            {
                if (eol == 0 && info != 0)
                {
                    raw.Add((
                        Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(info, SourceNameOffset)) ?? string.Empty,
                        Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(info, SourceDescriptionOffset)) ?? string.Empty,
                        Marshal.ReadInt32(info, SourceRateOffset),
                        Marshal.ReadByte(info, SourceChannelsOffset),
                        (uint)Marshal.ReadInt32(info, SourceMonitorOfSinkOffset) != InvalidIndex));
                }
            };
            string? defaultSource = null;
            ServerInfoCallback onServer = (_, info, _) =>
            {
                if (info != 0)
                {
                    defaultSource = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(info, ServerDefaultSourceOffset));
                }
            };

            // The delegates must outlive the operations: libpulse calls them from pa_mainloop_iterate below.
            Run(mainloop, Native.pa_context_get_source_info_list(context, Marshal.GetFunctionPointerForDelegate(onSource), 0), stopwatch);
            Run(mainloop, Native.pa_context_get_server_info(context, Marshal.GetFunctionPointerForDelegate(onServer), 0), stopwatch);
            GC.KeepAlive(onSource);
            GC.KeepAlive(onServer);

            return [.. raw.Select(s => new AudioDevice(s.Id, s.Description, s.Id == defaultSource, s.Rate, s.Channels, s.Monitor))];
        }
        finally
        {
            if (context != 0)
            {
                Native.pa_context_disconnect(context);
                Native.pa_context_unref(context);
            }

            Native.pa_mainloop_free(mainloop);
        }
    }

    private static void Run(nint mainloop, nint operation, Stopwatch stopwatch)
    {
        if (operation == 0)
        {
            throw new IOException("PulseAudio refused the device query.");
        }

        try
        {
            while (Native.pa_operation_get_state(operation) == OperationRunning)
            {
                Iterate(mainloop, stopwatch);
            }
        }
        finally
        {
            Native.pa_operation_unref(operation);
        }
    }

    // prepare/poll/dispatch is pa_mainloop_iterate with a bounded wait, so a server that never answers cannot hang us.
    private static void Iterate(nint mainloop, Stopwatch stopwatch)
    {
        if (stopwatch.Elapsed > Timeout)
        {
            throw new IOException($"PulseAudio did not answer the device query within {Timeout.TotalSeconds:F0} s.");
        }

        if (Native.pa_mainloop_prepare(mainloop, 100_000) < 0 || Native.pa_mainloop_poll(mainloop) < 0 || Native.pa_mainloop_dispatch(mainloop) < 0)
        {
            throw new IOException("The PulseAudio main loop failed while listing devices.");
        }
    }

    private static string ErrorText(nint context) =>
        context == 0 ? "no context" : Marshal.PtrToStringUTF8(Native.pa_strerror(Native.pa_context_errno(context))) ?? "unknown error";

    private static partial class Native
    {
        private const string Pulse = "libpulse.so.0";

        [LibraryImport(Pulse)]
        public static partial nint pa_mainloop_new();

        [LibraryImport(Pulse)]
        public static partial nint pa_mainloop_get_api(nint mainloop);

        [LibraryImport(Pulse)]
        public static partial int pa_mainloop_prepare(nint mainloop, int timeoutMicroseconds);

        [LibraryImport(Pulse)]
        public static partial int pa_mainloop_poll(nint mainloop);

        [LibraryImport(Pulse)]
        public static partial int pa_mainloop_dispatch(nint mainloop);

        [LibraryImport(Pulse)]
        public static partial void pa_mainloop_free(nint mainloop);

        [LibraryImport(Pulse, StringMarshalling = StringMarshalling.Utf8)]
        public static partial nint pa_context_new(nint api, string name);

        [LibraryImport(Pulse, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int pa_context_connect(nint context, string? server, int flags, nint spawnApi);

        [LibraryImport(Pulse)]
        public static partial int pa_context_get_state(nint context);

        [LibraryImport(Pulse)]
        public static partial int pa_context_errno(nint context);

        [LibraryImport(Pulse)]
        public static partial void pa_context_disconnect(nint context);

        [LibraryImport(Pulse)]
        public static partial void pa_context_unref(nint context);

        [LibraryImport(Pulse)]
        public static partial nint pa_context_get_source_info_list(nint context, nint callback, nint userdata);

        [LibraryImport(Pulse)]
        public static partial nint pa_context_get_server_info(nint context, nint callback, nint userdata);

        [LibraryImport(Pulse)]
        public static partial int pa_operation_get_state(nint operation);

        [LibraryImport(Pulse)]
        public static partial void pa_operation_unref(nint operation);

        [LibraryImport(Pulse)]
        public static partial nint pa_strerror(int error);
    }
}
