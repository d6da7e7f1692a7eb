using System.Text.Json;
using CaptionSidecar.Overlay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.Benchmarks.OverlayFanOut;

/// <summary>
/// The overlay library as the Sidecar hosts it, plus <c>POST /bench/publish</c> so the load generator can raise a
/// caption event the same way it does on the node server.
/// </summary>
internal static class BenchServer
{
    public static async Task RunAsync(int port)
    {
        var tokenFolder = Path.Combine(Path.GetTempPath(), "overlay-fanout-" + Environment.ProcessId);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddCaptionOverlay(o =>
        {
            o.Port = port;
            o.TokenFolder = tokenFolder;
        });
        builder.Services.AddSingleton<IControlSurface, IdleControlSurface>();
        // As the Sidecar hosts it (Sidecar/Control/ControlServer.cs): the library leaves this host-wide switch alone.
        builder.Services.Configure<SocketTransportOptions>(o => o.UnsafePreferInlineScheduling = true);
        var options = new OverlayServerOptions { Port = port };
        builder.WebHost.ConfigureKestrel(k => k.ListenForOverlay(options));
        var app = builder.Build();
        app.MapCaptionOverlay();
        var feed = app.Services.GetRequiredService<CaptionFeed>();
        app.MapPost("/bench/publish", async context =>
        {
            var update = await JsonSerializer.DeserializeAsync(context.Request.Body, OverlayJsonContext.Default.OverlayCaption, context.RequestAborted);
            if (update is null)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            feed.Publish(update);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        // For `OverlayFanOut memory`: the managed heap after a full blocking collection, the feed's clients and the
        // process's working set, as "heapBytes clients workingSetBytes".
        app.MapGet("/bench/memory", context =>
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var heap = GC.GetTotalMemory(forceFullCollection: true);
            return context.Response.WriteAsync(string.Create(
                System.Globalization.CultureInfo.InvariantCulture, $"{heap} {feed.ClientCount} {Environment.WorkingSet}"), context.RequestAborted);
        });
        try
        {
            await app.RunAsync();
        }
        finally
        {
            if (Directory.Exists(tokenFolder))
            {
                Directory.Delete(tokenFolder, recursive: true);
            }
        }
    }

    /// <summary>The control surface of a host with no languages and no engine: the benchmark uses only the feed.</summary>
    private sealed class IdleControlSurface : IControlSurface
    {
        private static readonly JsonElement Status = JsonDocument.Parse(
            """{"engine":"none","uptimeSeconds":0,"tracks":[],"obsState":"off","rateLimits":[],"recentErrors":[]}""").RootElement.Clone();

        public JsonElement GetStatus() => Status;

        public IReadOnlyList<LanguageState> GetLanguages() => [];

        public Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task ClearCaptionsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ShowTestCaptionAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
