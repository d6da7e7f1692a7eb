using System.CommandLine;
using CaptionSidecar.Relay;
using CaptionSidecar.Retries;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Hosting;

/// <summary>
/// <c>CaptionSidecar relay</c>: the viewer relay role (docs/relay.md). It watches the captions on NATS and serves the
/// viewer page and feed; no audio, no OpenAI key, no OBS. Its settings are the <c>Relay</c> section
/// (<see cref="RelayServerOptions"/>), from the same sources as the sidecar's (settings files, environment, command line).
/// </summary>
internal static class RelayCommand
{
    /// <summary>The <c>relay</c> command with its options; the root's recursive options (--config, --data-dir, --http-port, --log-level) apply too.</summary>
    public static Command Build(IReadOnlyList<SidecarCommandLine.CliSetting> rootSettings, Option<FileInfo?> configFile)
    {
        var nats = new Option<string>("--nats") { Description = "The NATS server: nats://[USER:PASS@]HOST:PORT or tls://HOST:PORT (prefer CAPTIONSIDECAR_RelayServer__Password for the password).", HelpName = "URL" };
        var bind = new Option<string>("--bind") { Description = "Address to listen on. Default: every address.", HelpName = "ADDRESS" };
        var streams = new Option<string>("--streams") { Description = "Serve only these streams, comma-separated. Default: every stream.", HelpName = "a,b" };
        var origins = new Option<string[]>("--allow-origin") { Description = "An origin whose pages may open the feed (repeatable; * allows every site).", HelpName = "ORIGIN", AllowMultipleArgumentsPerToken = false };
        var maxViewers = new Option<string>("--max-viewers") { Description = "Viewers at most (default 20000); more are answered 503.", HelpName = "N" };
        var maxPerAddress = new Option<string>("--max-viewers-per-address") { Description = "Viewers at most from one address (default 50); more are answered 429.", HelpName = "N" };
        var forwardedFor = new Option<string[]>("--forwarded-for") { Description = "Address of a reverse proxy whose X-Forwarded-For is trusted (repeatable).", HelpName = "PROXYADDR", AllowMultipleArgumentsPerToken = false };

        var command = new Command("relay", "Run a viewer relay: watch the captions on NATS and serve the viewer page (/watch?stream=NAME) and its live feed. No audio, no OpenAI key, no OBS.")
        {
            nats, bind, streams, origins, maxViewers, maxPerAddress, forwardedFor,
        };
        command.SetAction((parse, ct) =>
        {
            var values = SidecarCommandLine.ToConfiguration(parse, rootSettings);
            // The root's --http-port is the relay's port here.
            if (values.Remove("Http:Port", out var port))
            {
                values[$"{RelayServerOptions.Section}:{nameof(RelayServerOptions.HttpPort)}"] = port;
            }

            void Text(Option<string> option, string key)
            {
                if (parse.GetResult(option) is { Implicit: false })
                {
                    values[$"{RelayServerOptions.Section}:{key}"] = parse.GetValue(option);
                }
            }

            void List(Option<string[]> option, string key)
            {
                var given = parse.GetValue(option) ?? [];
                for (var i = 0; i < given.Length; i++)
                {
                    values[$"{RelayServerOptions.Section}:{key}:{i}"] = given[i];
                }
            }

            Text(nats, nameof(RelayServerOptions.Url));
            Text(bind, nameof(RelayServerOptions.Bind));
            Text(streams, nameof(RelayServerOptions.Streams));
            Text(maxViewers, nameof(RelayServerOptions.MaxViewers));
            Text(maxPerAddress, nameof(RelayServerOptions.MaxViewersPerAddress));
            List(origins, nameof(RelayServerOptions.AllowedOrigins));
            List(forwardedFor, nameof(RelayServerOptions.ForwardedFor));
            return RunAsync(values, parse.GetValue(configFile)?.FullName, ct);
        });
        return command;
    }

    /// <summary>Runs the relay until stopped; 0 after a clean stop, 2 for invalid configuration, 1 when it failed.</summary>
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> commandLine, string? configFile, CancellationToken cancellationToken)
    {
        WebApplication app;
        try
        {
            app = Build(commandLine, configFile);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or FormatException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"Invalid configuration: {ex.Message}");
            return SidecarCommandLine.ExitInvalidConfiguration;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("Invalid relay configuration, nothing was started:");
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync($"  - {failure}");
            }

            return SidecarCommandLine.ExitInvalidConfiguration;
        }

        await using (app)
        {
            var options = app.Services.GetRequiredService<IOptions<RelayServerOptions>>().Value;
            try
            {
                await app.StartAsync(cancellationToken);
                var bound = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
                    .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
                var addresses = bound.Count > 0 ? string.Join(", ", bound) : $"port {options.HttpPort}";
                // Scripts (and the tests) read the address from this line.
                await Console.Error.WriteLineAsync($"Relay listening on {addresses}; viewers open /watch?stream=NAME");
                await app.WaitForShutdownAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (IOException ex) when (SidecarHost.IsPortInUse(ex))
            {
                await Console.Error.WriteLineAsync($"Port {options.HttpPort} is already in use: choose another with --http-port (0 = any free port).");
                return SidecarCommandLine.ExitInvalidConfiguration;
            }
            finally
            {
                await Serilog.Log.CloseAndFlushAsync();
            }
        }

        return 0;
    }

    /// <summary>Builds the relay's web application; throws <see cref="OptionsValidationException"/> for invalid settings.</summary>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> commandLine, string? configFile)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        SidecarHost.AddConfiguration(builder.Configuration, commandLine, configFile, createUserSettings: false);
        var relay = new RelayServerOptions();
        var section = builder.Configuration.GetSection(RelayServerOptions.Section);
        section.Bind(relay);
        if (relay.Validate() is { Count: > 0 } failures)
        {
            throw new OptionsValidationException(RelayServerOptions.Section, typeof(RelayServerOptions), failures);
        }

        var sidecar = builder.Configuration.GetSection(SidecarOptions.Section).Get<SidecarOptions>() ?? new SidecarOptions();
        var folders = new DataFolders(sidecar.DataDirectory);
        folders.EnsureCreated();
        SidecarHost.AddLogging(builder.Services, builder.Configuration, folders, sidecar, "relay");

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.ApplyRelayLimits();
            if (string.IsNullOrEmpty(relay.Bind))
            {
                kestrel.ListenAnyIP(relay.HttpPort);
            }
            else
            {
                kestrel.Listen(System.Net.IPAddress.Parse(relay.Bind), relay.HttpPort);
            }
        });
        builder.Services.AddRoutingCore();
        builder.Services.Configure<RelayServerOptions>(section);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("CaptionSidecar.Relay.Watch");
            return new RelayRetryPolicy(Backoff.Forever(
                BackoffSettings.LocalPeer,
                sp.GetRequiredService<TimeProvider>(),
                attempt =>
                {
                    if (attempt.IsWorthAWarning)
                    {
                        RelayLog.WatchRetry(logger, attempt.Failure?.Message ?? "failed", attempt.Attempt, attempt.Delay);
                    }
                }));
        });
        builder.Services.AddCaptionRelay();

        var app = builder.Build();
        app.UseRouting();
        app.MapCaptionRelay();
        return app;
    }
}

/// <summary>The relay host's log messages.</summary>
internal static partial class RelayLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption watch attempt {Attempt} failed ({Reason}); next try in {Delay}")]
    public static partial void WatchRetry(ILogger logger, string reason, int attempt, TimeSpan delay);
}
