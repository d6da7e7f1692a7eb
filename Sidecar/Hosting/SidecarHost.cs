using CaptionSidecar.Captions;
using CaptionSidecar.Control;
using CaptionSidecar.Overlay;
using CaptionSidecar.Pipeline;
using CaptionSidecar.Realtime;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;
using Serilog;
using Serilog.Events;

namespace CaptionSidecar.Hosting;

/// <summary>Builds and runs the generic host that carries the caption pipeline.</summary>
public static class SidecarHost
{
    /// <summary>Prefix of the environment variables that bind to settings, e.g. <c>CAPTIONSIDECAR_Audio__Input</c>.</summary>
    public const string EnvironmentPrefix = "CAPTIONSIDECAR_";

    /// <summary>Runs the sidecar until it is stopped (Ctrl+C, SIGTERM) or, with <c>--exit-at-end</c>, its input ends.</summary>
    /// <returns>The process exit code: 0 on success, 1 when the run failed, 2 for invalid configuration.</returns>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> commandLine, string? configFile, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = Build(commandLine, configFile);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or FormatException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration: {ex.Message}");
            return SidecarCommandLine.ExitInvalidConfiguration;
        }

        using (host)
        {
            // Resolved before the run: RunAsync disposes the host's services when it ends.
            var outcome = host.Services.GetRequiredService<ProcessOutcome>();
            CaptionDispatcher? captions = null;
            var port = host.Services.GetRequiredService<IConfiguration>()[$"{HttpOptions.Section}:{nameof(HttpOptions.Port)}"] ?? new HttpOptions().Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            try
            {
                // Inside the try: building the outputs reads their options, which are validated then (an invalid
                // one is reported below as a sentence, not a stack trace).
                captions = host.Services.GetRequiredService<CaptionDispatcher>();
                await host.RunAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested || cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C (or the tray's Quit) before the start finished, e.g. while the HTTP server was still binding:
                // a stop as asked, not a failure. The services that had started were stopped by the host.
                await Console.Error.WriteLineAsync("Stopped before the start had finished.");
            }
            catch (IOException ex) when (IsPortInUse(ex))
            {
                await Console.Error.WriteLineAsync(
                    $"Port {port} (the overlay and control page) is already in use: is another CaptionSidecar running? Stop it, or choose another port with --http-port (0 = any free port).");
                return SidecarCommandLine.ExitInvalidConfiguration;
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync("Invalid configuration, nothing was started:");
                foreach (var failure in ex.Failures)
                {
                    await Console.Error.WriteLineAsync($"  - {failure}");
                }

                return SidecarCommandLine.ExitInvalidConfiguration;
            }
            finally
            {
                await Log.CloseAndFlushAsync();
            }

            // A final line an output did not record (the dispatcher logged how many) fails the run.
            return outcome.ExitCode != 0 ? outcome.ExitCode : captions?.FinalLinesLost > 0 ? 1 : 0;
        }
    }

    /// <summary>
    /// Builds the host: configuration sources, logging, options and services, and the HTTP server (Kestrel) that
    /// serves the overlay, its live feed, the control page and the control API.
    /// </summary>
    public static IHost Build(IReadOnlyDictionary<string, string?> commandLine, string? configFile)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        var settingsFile = AddConfiguration(builder.Configuration, commandLine, configFile, createUserSettings: true);
        var sidecar = builder.Configuration.GetSection(SidecarOptions.Section).Get<SidecarOptions>() ?? new SidecarOptions();
        var folders = new DataFolders(sidecar.DataDirectory);
        folders.EnsureCreated();
        builder.Services.AddSingleton(folders);
        builder.Services.AddSingleton(settingsFile);
        AddLogging(builder.Services, builder.Configuration, folders, sidecar);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProcessOutcome>();
        builder.Services.AddSidecarOptions(builder.Configuration);
        builder.Services.AddCaptionOutputs(builder.Configuration);
        builder.Services.AddAudioInput();
        builder.Services.AddCaptionEngines();
        builder.Services.AddSingleton<CaptionPipelineService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CaptionPipelineService>());
        builder.Services.AddSingleton<Speakers.ISpeakerControl>(sp => sp.GetRequiredService<CaptionPipelineService>());
        builder.Services.AddControlServer(builder.WebHost, builder.Configuration, folders);

        var app = builder.Build();
        app.MapCaptionOverlay();
        return app;
    }

    /// <summary>True for Kestrel's failure to bind a port that another process holds.</summary>
    internal static bool IsPortInUse(Exception ex) =>
        ex is IOException && (ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
            || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Failures at start that <see cref="RunAsync"/> reports in one sentence (invalid settings, the HTTP port in use, a
    /// stop asked for before the start finished):
    /// the host's own "Hosting failed to start" log of them, with its stack trace, would bury that sentence.
    /// </summary>
    private static bool IsReportedAtStart(LogEvent log) =>
        (log.Exception is OptionsValidationException or OperationCanceledException || (log.Exception is { } ex && IsPortInUse(ex)))
        && log.Properties.TryGetValue("SourceContext", out var source)
        && source is ScalarValue { Value: "Microsoft.Extensions.Hosting.Internal.Host" };

    /// <summary>The configuration alone (settings files, environment, command line), for commands that run no host.</summary>
    public static IConfiguration BuildConfiguration(IReadOnlyDictionary<string, string?> commandLine, string? configFile)
    {
        var configuration = new ConfigurationManager();
        AddConfiguration(configuration, commandLine, configFile, createUserSettings: false);
        return configuration;
    }

    /// <summary>
    /// The defaults file, <c>appsettings.json</c>: in the application's folder (a build, <c>dotnet run</c>, the Linux and
    /// macOS releases), else beside the executable. The Windows release extracts itself into a folder under
    /// <c>%TEMP%</c>, which <see cref="AppContext.BaseDirectory"/> then names, while its <c>appsettings.json</c> (left out
    /// of the bundle so it stays editable) lies beside <c>CaptionSidecar.exe</c>.
    /// </summary>
    internal static string DefaultsFile(string baseDirectory, string? processPath, Func<string, bool> exists)
    {
        const string Name = "appsettings.json";
        var inBase = Path.Combine(baseDirectory, Name);
        if (exists(inBase) || Path.GetDirectoryName(processPath) is not { Length: > 0 } exeFolder)
        {
            return inBase;
        }

        var besideExe = Path.Combine(exeFolder, Name);
        return exists(besideExe) ? besideExe : inBase;
    }

    /// <summary>
    /// Adds the configuration sources, lowest first: the exe's <c>appsettings.json</c>, the user's
    /// <see cref="UserSettings"/> file (written first when <paramref name="createUserSettings"/> and missing),
    /// <c>--config</c>, the well-known environment variables, our prefixed ones, the command line.
    /// </summary>
    /// <returns>Where the user's settings file is, and whether it was written now.</returns>
    /// <exception cref="InvalidDataException">The user's settings file is not valid JSON (the message names it).</exception>
    internal static UserSettingsFile AddConfiguration(
        ConfigurationManager configuration, IReadOnlyDictionary<string, string?> commandLine, string? configFile, bool createUserSettings)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        configuration.AddJsonFile(DefaultsFile(AppContext.BaseDirectory, Environment.ProcessPath, File.Exists), optional: true, reloadOnChange: false);
        var userSettingsIndex = configuration.Sources.Count;
        AddOverrides(configuration, commandLine, configFile);

        // The settings file lives in the data folder, which the sources around it can move (not the file itself): it is
        // found from them, then slotted in between.
        var path = UserSettings.PathIn(new DataFolders(configuration[$"{SidecarOptions.Section}:{nameof(SidecarOptions.DataDirectory)}"]));
        var created = createUserSettings && UserSettings.CreateIfMissing(path);
        if (File.Exists(path))
        {
            UserSettings.Validate(path);
            var source = new JsonConfigurationSource { Path = path, Optional = true, ReloadOnChange = false };
            source.ResolveFileProvider();
            configuration.Sources.Insert(userSettingsIndex, source);
        }

        return new UserSettingsFile(path, created);
    }

    /// <summary>The sources above the user's settings file: <c>--config</c>, the environment, the command line.</summary>
    private static void AddOverrides(ConfigurationManager configuration, IReadOnlyDictionary<string, string?> commandLine, string? configFile)
    {
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
            {
                throw new FileNotFoundException($"--config file '{configFile}' does not exist.", configFile);
            }

            configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        }

        // The well-known variable names of the services we talk to, below our own prefixed variables.
        var wellKnown = new Dictionary<string, string?>();
        if (Environment.GetEnvironmentVariable("OPENAI_API_KEY") is { Length: > 0 } key)
        {
            wellKnown[$"{RealtimeOptions.Section}:{nameof(RealtimeOptions.ApiKey)}"] = key;
        }

        if (Environment.GetEnvironmentVariable("OBS_WEBSOCKET_PASSWORD") is { Length: > 0 } obsPassword)
        {
            wellKnown["Obs:Password"] = obsPassword;
        }

        configuration.AddInMemoryCollection(wellKnown);
        configuration.AddEnvironmentVariables(EnvironmentPrefix);
        configuration.AddInMemoryCollection(commandLine);
    }

    /// <summary>
    /// Serilog for a host of this executable: console (stderr) and a daily file <c>NAME-DATE.log</c> in the data
    /// folder's logs, levels from the <c>Serilog</c> section. The sidecar logs as "sidecar", the relay as "relay".
    /// </summary>
    internal static void AddLogging(IServiceCollection services, IConfiguration configuration, DataFolders folders, SidecarOptions sidecar, string name = "sidecar")
    {
        var logFile = Path.Combine(folders.Logs, $"{name}-.log");
        services.AddSerilog((_, log) => log
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .Filter.ByExcluding(IsReportedAtStart)
            // Logs go to stderr so stdout carries only captions (scripts can pipe them).
            .WriteTo.Console(
                outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {SourceContext:l}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .WriteTo.File(
                logFile,
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: sidecar.LogRetainedDays,
                fileSizeLimitBytes: sidecar.LogFileSizeLimitMegabytes * 1024L * 1024L,
                rollOnFileSizeLimit: true,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext:l}: {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture));
    }
}
