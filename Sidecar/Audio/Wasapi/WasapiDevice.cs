using System.Runtime.Versioning;
using NAudio.CoreAudioApi;
using NAudio.Wave;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// A WASAPI source to capture through NAudio: the default input (which follows Windows' default when it changes),
/// a capture endpoint by id, the loopback of a render endpoint, or one program's sound (per-process loopback).
/// Every reopen looks the endpoint or process up again, so a re-plugged device or a restarted program is found.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WasapiDevice : ICaptureDevice
{
    /// <summary>Process loopback has no mix format: the engine converts to this rate (unless another is required).</summary>
    internal const int ProcessLoopbackRate = 48_000;

    private static readonly TimeSpan ActivationTimeout = TimeSpan.FromSeconds(10);

    private readonly string? _endpointId;
    private readonly string? _processName;
    private readonly DefaultInputFollower? _follower;

    private WasapiDevice(string? endpointId, bool loopback, string? processName, string description, DefaultInputFollower? follower)
    {
        _endpointId = endpointId;
        IsLoopback = loopback;
        _processName = processName;
        Description = description;
        _follower = follower;
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public bool IsLoopback { get; }

    /// <summary>Windows' default input (console role), followed when the streamer picks another one.</summary>
    public static WasapiDevice DefaultInput() => new(null, false, null, "WASAPI default input", new DefaultInputFollower());

    /// <summary>A capture endpoint, or with <paramref name="loopback"/> what a render endpoint plays; never follows the default.</summary>
    public static WasapiDevice Endpoint(string endpointId, bool loopback, string description) => new(endpointId, loopback, null, description, null);

    /// <summary>What the program called <paramref name="processName"/> (and its child processes) plays.</summary>
    public static WasapiDevice Process(string processName) => new(null, true, processName, $"WASAPI loopback of program '{processName}'", null);

    /// <inheritdoc/>
    /// <remarks>
    /// Joins the multithreaded apartment; for the default input also subscribes to Windows' default-device
    /// notifications (raised on Windows' audio thread, they only mark the open stream stale). Disposing unsubscribes.
    /// </remarks>
    public IDisposable EnterCaptureThread()
    {
        Thread.CurrentThread.TrySetApartmentState(ApartmentState.MTA); // false when a host made it STA: COM works there too
        if (_follower is null)
        {
            return Scope.Empty;
        }

        MMDeviceEnumerator? enumerator = null;
        try
        {
            enumerator = new MMDeviceEnumerator();
            var notifications = enumerator.CreateNotificationClient(useSynchronizationContext: false);
            notifications.DefaultDeviceChanged += (_, e) => _follower.OnDefaultChanged(
                e.Flow == DataFlow.Capture,
                e.Role switch
                {
                    Role.Console => DefaultEndpointRole.Console,
                    Role.Multimedia => DefaultEndpointRole.Multimedia,
                    _ => DefaultEndpointRole.Communications,
                },
                e.DeviceId);
            return new Scope(notifications, enumerator);
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            enumerator?.Dispose();
            throw WindowsAudioEndpoints.Failure("subscribing to default-device changes", ex);
        }
    }

    /// <inheritdoc/>
    public ICaptureStream Open(int? requiredSampleRate) =>
        _processName is null ? OpenEndpoint(requiredSampleRate) : OpenProcess(_processName, requiredSampleRate);

    private WasapiStream OpenEndpoint(int? requiredSampleRate)
    {
        _follower?.Opening();
        MMDeviceEnumerator? enumerator = null;
        MMDevice? device = null;
        var what = _endpointId is null ? "the default input" : $"endpoint {_endpointId}";
        try
        {
            enumerator = new MMDeviceEnumerator();
            device = _endpointId is null
                ? enumerator.GetDefaultAudioEndpoint(DataFlow.Capture, Role.Console)
                : enumerator.GetDevice(_endpointId);
            var client = device.CreateAudioClient();
            what = $"'{device.FriendlyName}'";
            var opened = device.ID;
            Func<string?>? changedTo = _follower is null ? null : () => _follower.ChangedTo(opened) is { } id ? NameOf(id) : null;
            return WasapiStream.Start(client, IsLoopback, format: null, requiredSampleRate, changedTo);
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            throw WindowsAudioEndpoints.Failure($"opening {what}", ex, IsLoopback);
        }
        finally
        {
            device?.Dispose();
            enumerator?.Dispose();
        }
    }

    /// <summary>The friendly name of endpoint <paramref name="endpointId"/>, or the id when it cannot be read.</summary>
    private static string NameOf(string endpointId)
    {
        try
        {
            using var enumerator = new MMDeviceEnumerator();
            using var device = enumerator.GetDevice(endpointId);
            return $"'{device.FriendlyName}'";
        }
        catch (Exception ex) when (WindowsAudioEndpoints.IsAudioFailure(ex))
        {
            return endpointId;
        }
    }

    private static WasapiStream OpenProcess(string processName, int? requiredSampleRate)
    {
        var target = ProcessTargets.Resolve(processName, RunningProcesses());
        if (!OperatingSystem.IsWindowsVersionAtLeast(10, 0, 19041))
        {
            throw new IOException(
                $"--input process:{processName}: capturing one program's sound needs Windows 10 version 2004 (build 19041) or later; this is {Environment.OSVersion.Version}. Capture the output it plays on instead (device:NAME of a loopback in 'CaptionSidecar devices').");
        }

        var client = ActivateProcessLoopback((uint)target.Id, processName);
        var format = new WaveFormat(requiredSampleRate ?? ProcessLoopbackRate, 16, 2);
        return WasapiStream.Start(client, loopback: true, format, requiredSampleRate, changedTo: null);
    }

    /// <summary>
    /// Activates a process-loopback client, blocking this capture thread (a dedicated thread) until Windows completes
    /// the asynchronous activation or <see cref="ActivationTimeout"/> passes.
    /// </summary>
    [SupportedOSPlatform("windows10.0.19041.0")]
    private static AudioClient ActivateProcessLoopback(uint processId, string processName)
    {
        AudioClient? client = null;
        Exception? failure = null;
        var abandoned = false;
        var done = new ManualResetEventSlim(); // not disposed: an abandoned activation may still set it (it holds no kernel handle unless asked)

        // Never faults (every outcome is stored), so the task needs no further observer.
        _ = Activate();
        if (!done.Wait(ActivationTimeout))
        {
            Volatile.Write(ref abandoned, true);
            throw new IOException($"--input process:{processName}: Windows did not activate the per-process loopback within {ActivationTimeout.TotalSeconds:F0} s.");
        }

        // Whatever the activation threw is Windows' answer (Marshal.ThrowExceptionForHR makes FileNotFoundException of
        // Wine's 0x80070002, ArgumentException of E_INVALIDARG): all of it is said in words as a refusal.
        return failure is null ? client! : throw WindowsAudioEndpoints.ProcessLoopbackFailure(processName, processId, failure);

        async Task Activate()
        {
            try
            {
                client = await AudioClient.ActivateProcessLoopbackAsync(processId, ProcessLoopbackMode.IncludeTargetProcessTree).ConfigureAwait(false);
                if (Volatile.Read(ref abandoned))
                {
                    client.Dispose();
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                done.Set();
            }
        }
    }

    private static List<RunningProcess> RunningProcesses()
    {
        var processes = System.Diagnostics.Process.GetProcesses();
        try
        {
            return [.. processes.Select(p => new RunningProcess(p.Id, p.ProcessName))];
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    private sealed class Scope(params IDisposable[] parts) : IDisposable
    {
        public static readonly Scope Empty = new();

        public void Dispose()
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }
}
