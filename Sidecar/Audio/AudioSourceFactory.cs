namespace CaptionSidecar.Audio;

/// <summary>Opens the source that <see cref="AudioOptions.Input"/> names and logs what it opened.</summary>
internal sealed partial class AudioSourceFactory(ILoggerFactory loggers) : IAudioSourceFactory
{
    /// <summary>Rate requested from an OS capture device; the device or its server converts when it differs.</summary>
    internal const int DeviceSampleRate = 48_000;

    private readonly ILogger<AudioSourceFactory> _logger = loggers.CreateLogger<AudioSourceFactory>();

    /// <inheritdoc/>
    public async Task<IAudioSource> OpenAsync(AudioOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var spec = AudioInputSpec.Parse(options.Input);
        var raw = new AudioFormat(options.InputRate, options.InputChannels);
        IAudioSource source = spec.Kind switch
        {
            AudioInputKind.File => await WavFileSource.OpenAsync(spec.Value, loggers.CreateLogger<WavFileSource>(), cancellationToken),
            AudioInputKind.Stdin => RawPcmSource.StandardInput(raw),
            AudioInputKind.Command => new CommandSource(spec.Value, raw, loggers.CreateLogger<CommandSource>()),
            AudioInputKind.Process => await OpenProcessAsync(spec.Value, cancellationToken),
            _ => await OpenDeviceAsync(spec.Kind == AudioInputKind.Device ? spec.Value : null, cancellationToken),
        };
        LogOpened(source.Description, source.Format.ToString());
        return source;
    }

    private async Task<IAudioSource> OpenDeviceAsync(string? name, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsLinux())
        {
            return await OpenPulseAsync(name, cancellationToken);
        }

        if (OperatingSystem.IsWindows())
        {
            return await OpenWasapiAsync(name, cancellationToken);
        }

        var device = name is null ? "the default device" : $"device '{name}'";
        if (OperatingSystem.IsMacOS())
        {
            throw new NotSupportedException(
                $"Capturing {device} on macOS is not built yet. Capture with ffmpeg instead: " +
                "--input 'cmd:ffmpeg -loglevel error -f avfoundation -i \":0\" -f s16le -ac 1 -ar 48000 -' --input-rate 48000 " +
                "(list devices with: ffmpeg -f avfoundation -list_devices true -i \"\").");
        }

        throw new NotSupportedException(
            $"Capturing {device} is not supported on this operating system; use --input cmd:\"COMMAND\" with a command writing raw s16le (such as ffmpeg).");
    }

    /// <summary>What one program plays (Windows' per-process loopback); elsewhere a message saying there is none.</summary>
    private async Task<IAudioSource> OpenProcessAsync(string name, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new NotSupportedException(AudioInputSpec.Problem($"process:{name}", out _));
        }

        return await PacketCaptureSource.OpenAsync(Wasapi.WasapiDevice.Process(name), loggers.CreateLogger<PacketCaptureSource>(), TimeProvider.System, cancellationToken);
    }

    /// <summary>
    /// The default capture endpoint (followed when Windows' default changes), or the endpoint (or loopback of an output) whose id or unique part of its id or
    /// name is <paramref name="name"/>; no match or several: the list.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private Task<PacketCaptureSource> OpenWasapiAsync(string? name, CancellationToken cancellationToken)
    {
        Wasapi.WasapiDevice device;
        if (name is null)
        {
            device = Wasapi.WasapiDevice.DefaultInput();
        }
        else
        {
            AudioDevice chosen;
            try
            {
                chosen = AudioDevices.Resolve(name, Wasapi.WasapiDevices.List());
            }
            catch (ArgumentException ex)
            {
                throw new IOException($"Audio:Input (--input device:{name}): {ex.Message}", ex);
            }

            if (chosen.Id != name)
            {
                LogResolved(name, chosen.Id);
            }

            var (endpointId, loopback) = WindowsAudioEndpoints.Split(chosen.Id);
            device = Wasapi.WasapiDevice.Endpoint(endpointId, loopback, loopback ? $"WASAPI loopback of '{chosen.Description}'" : $"WASAPI input '{chosen.Description}'");
        }

        return PacketCaptureSource.OpenAsync(device, loggers.CreateLogger<PacketCaptureSource>(), TimeProvider.System, cancellationToken);
    }

    /// <summary>
    /// Opens a PulseAudio source. Connecting blocks in libpulse (a hung sound server would hold it), so it runs on its
    /// own thread and stopping never waits on it.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private async Task<IAudioSource> OpenPulseAsync(string? name, CancellationToken cancellationToken)
    {
        var source = name is null ? null : ResolvePulseSource(name);
        return await BlockingOpen.RunAsync(
            () => new PulseAudioCapture(source, DeviceSampleRate, channels: 1, loggers.CreateLogger<PulseAudioCapture>()),
            static capture => capture.Abandon(),
            "PulseAudio open",
            cancellationToken);
    }

    /// <summary>Turns a unique part of a source's id or description into its id; no match or several: the list.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private string ResolvePulseSource(string name)
    {
        IReadOnlyList<AudioDevice> devices;
        try
        {
            devices = PulseAudioDevices.List();
        }
        catch (IOException ex)
        {
            // Opening the name as given still yields PulseAudio's own, precise error (daemon missing, and so on).
            LogListingFailed(ex);
            return name;
        }

        try
        {
            var device = AudioDevices.Resolve(name, devices);
            if (device.Id != name)
            {
                LogResolved(name, device.Id);
            }

            return device.Id;
        }
        catch (ArgumentException ex)
        {
            throw new IOException($"Audio:Input (--input device:{name}): {ex.Message}", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list the PulseAudio sources; opening the device name as given")]
    private partial void LogListingFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audio device '{Name}' resolved to {Id}")]
    private partial void LogResolved(string name, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audio input opened: {Source}, {Format}")]
    private partial void LogOpened(string source, string format);
}
