using System.Diagnostics;
using System.Text.Json.Nodes;
using CaptionSidecar.ObsBridge.Tests.Fakes;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.ObsBridge.Tests;

/// <summary>
/// Against a real OBS started by scripts/obs-headless.sh (port and password from OBS_PORT/OBS_PASSWORD or the files
/// the script writes under .test-peers/obs). One class so the tests run one after another: one of them kills OBS.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ObsRealTests(ITestOutputHelper output)
{
    private static readonly string RepoRoot = TestHost.RepoRoot;

    private static string PeerDir => Path.Combine(RepoRoot, ".test-peers", "obs");

    internal static (Uri Url, string? Password) Endpoint()
    {
        var port = Environment.GetEnvironmentVariable("OBS_PORT")
            ?? (File.Exists(Path.Combine(PeerDir, "port")) ? File.ReadAllText(Path.Combine(PeerDir, "port")).Trim() : "4455");
        var password = Environment.GetEnvironmentVariable("OBS_PASSWORD")
            ?? (File.Exists(Path.Combine(PeerDir, "password")) ? File.ReadAllText(Path.Combine(PeerDir, "password")).Trim() : null);
        return (new Uri($"ws://127.0.0.1:{port}"), password);
    }

    /// <summary>A connected client to the real OBS, or a skip (locally) / failure (CI) when OBS is not running.</summary>
    internal static async Task<ObsClient> ConnectAsync(CancellationToken ct)
    {
        var (url, password) = Endpoint();
        var client = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }),
            new RecordingLogger<ObsClient>(), TimeProvider.System);
        client.Start();
        try
        {
            await client.WaitUntilConnectedAsync(ct).WaitAsync(TimeSpan.FromSeconds(5), ct);
        }
        catch (TimeoutException)
        {
            var status = client.Status;
            await client.DisposeAsync();
            Peers.Missing($"OBS at {url} ({status.State}: {status.LastError}); start it with scripts/obs-headless.sh start");
        }

        // OBS answers 207 NotReady while it is still loading.
        try
        {
            await Poll.ForAsync(
                async probe => await client.SendRequestAsync("GetVersion", null, probe),
                version => version.Code != ObsStatusCode.NotReady,
                $"OBS at {url} to finish loading (GetVersion not NotReady)",
                ct,
                timeoutMs: 30000,
                intervalMs: 100);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        return client;
    }

    private static ObsCaptionOutput NewOutput(ObsClient client) => new(client, Options.Create(new ObsCaptionOutputOptions()),
        new RecordingLogger<ObsCaptionOutput>(), TimeProvider.System);

    private static async Task RemoveIfPresentAsync(ObsClient client, string name, CancellationToken ct, bool waitUntilGone = true)
    {
        var r = await client.SendRequestAsync("RemoveInput", new JsonObject { ["inputName"] = name }, ct);
        Assert.True(r.IsSuccess || r.Code == ObsStatusCode.ResourceNotFound, $"RemoveInput {name}: {r.Code} {r.Comment}");
        if (!waitUntilGone)
        {
            return;
        }

        // OBS destroys a removed source once nothing references it any more: wait until the name is really gone.
        await Poll.ForAsync(
            async probe => await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, probe),
            left => left.Code == ObsStatusCode.ResourceNotFound,
            $"{name} to be gone after RemoveInput (GetInputSettings answering ResourceNotFound)",
            ct,
            timeoutMs: 15000,
            intervalMs: 50);
    }

    private static async Task<string?> TextAsync(ObsClient client, string name, CancellationToken ct)
    {
        try
        {
            var r = await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, ct);
            return r.IsSuccess && r.Data.GetProperty("inputSettings").TryGetProperty("text", out var t) ? t.GetString() : null;
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException)
        {
            return null;
        }
    }

    private static async Task UntilTextAsync(ObsClient client, string name, string expected, CancellationToken ct, int timeoutMs = 15000)
    {
        await Poll.ForAsync(
            probe => TextAsync(client, name, probe),
            text => text == expected,
            $"{name} to show '{expected}'",
            ct,
            timeoutMs,
            intervalMs: 20);
    }

    [Fact(Timeout = 60000)]
    public async Task Output_MissingSource_CreatedWithTextAndScreenshotShowsIt()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectAsync(ct);
        await RemoveIfPresentAsync(client, "Captions (en)", ct);
        Directory.CreateDirectory(Path.Combine(RepoRoot, "artifacts", "obs"));
        await using var captions = NewOutput(client);
        captions.Start();

        captions.SetCaption("en", "Hello from the CaptionSidecar test", isFinal: true);

        await UntilTextAsync(client, "Captions (en)", "Hello from the CaptionSidecar test", ct);
        var settings = (await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = "Captions (en)" }, ct))
            .EnsureSuccess().Data;
        Assert.Equal("text_ft2_source_v2", settings.GetProperty("inputKind").GetString());
        Assert.Equal(48, settings.GetProperty("inputSettings").GetProperty("font").GetProperty("size").GetInt32());

        // A just-created text source has no size until OBS has rendered a frame with it: 702 until then.
        var screenshot = await Poll.ForAsync(
            async probe => await client.SendRequestAsync("GetSourceScreenshot", new JsonObject
            {
                ["sourceName"] = "Captions (en)",
                ["imageFormat"] = "png",
                ["imageWidth"] = 800,
            }, probe),
            response => response.Code != 702,
            "a screenshot of Captions (en) (OBS answers 702 until it has rendered the new source)",
            ct,
            timeoutMs: 15000,
            intervalMs: 100);
        var shot = screenshot.EnsureSuccess().Data.GetProperty("imageData").GetString()!;
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, shot, StringComparison.Ordinal);
        var png = Convert.FromBase64String(shot[prefix.Length..]);
        var artifact = Path.Combine(RepoRoot, "artifacts", "obs", "captions-en.png");
        await File.WriteAllBytesAsync(artifact, png, ct);
        output.WriteLine($"screenshot: {artifact} ({png.Length} bytes)");

        var (width, height, channels, pixels) = PngPixels.Decode(png);
        Assert.Equal(800, width);
        Assert.True(height > 10);
        var distinct = new HashSet<int>();
        var bright = 0;
        for (var i = 0; i + channels <= pixels.Length; i += channels)
        {
            distinct.Add(channels == 4 ? BitConverter.ToInt32(pixels, i) : (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
            if (pixels[i] > 200 && pixels[i + 1] > 200 && pixels[i + 2] > 200 && (channels < 4 || pixels[i + 3] > 200))
            {
                bright++;
            }
        }

        Assert.True(distinct.Count > 2, $"screenshot is uniform ({distinct.Count} colours)");
        Assert.True(bright > 100, $"too few white text pixels ({bright})");
    }

    [Fact(Timeout = 60000)]
    public async Task Output_ExistingStyledSource_FontAndColourUntouched()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectAsync(ct);
        // A fresh language per run: OBS frees a removed source's name only once nothing references it any more.
        var language = "de-" + Guid.NewGuid().ToString("N")[..8];
        var name = $"Captions ({language})";
        var scene = (await client.SendRequestAsync("GetCurrentProgramScene", null, ct)).EnsureSuccess().Data
            .GetProperty("currentProgramSceneName").GetString()!;
        var font = new JsonObject { ["face"] = "DejaVu Serif", ["size"] = 72, ["style"] = "Bold", ["flags"] = 1 };
        (await client.SendRequestAsync("CreateInput", new JsonObject
        {
            ["sceneName"] = scene,
            ["inputName"] = name,
            ["inputKind"] = "text_ft2_source_v2",
            ["inputSettings"] = new JsonObject { ["text"] = "styled", ["font"] = font, ["color1"] = 4278255615L, ["color2"] = 4278255615L },
        }, ct)).EnsureSuccess();
        var before = (await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, ct))
            .EnsureSuccess().Data.GetProperty("inputSettings").Clone();
        await using var captions = NewOutput(client);
        captions.Start();

        captions.SetCaption(language, "Hallo zusammen, schön dass ihr da seid", isFinal: true);

        await UntilTextAsync(client, name, "Hallo zusammen, schön dass ihr da seid", ct);
        var after = (await client.SendRequestAsync("GetInputSettings", new JsonObject { ["inputName"] = name }, ct))
            .EnsureSuccess().Data.GetProperty("inputSettings");
        Assert.Equal(before.GetProperty("font").GetRawText(), after.GetProperty("font").GetRawText());
        Assert.Equal(before.GetProperty("color1").GetInt64(), after.GetProperty("color1").GetInt64());
        Assert.Equal(before.GetProperty("color2").GetInt64(), after.GetProperty("color2").GetInt64());
        Assert.False(after.TryGetProperty("outline", out _));
        Assert.Equal(0, captions.Statistics.SourcesCreated);
        await RemoveIfPresentAsync(client, name, ct, waitUntilGone: false); // tidy up; the next run uses a fresh name
    }

    [Fact(Timeout = 60000)]
    public async Task Client_RealObs_VersionsBatchAndStreamCaptionWhileNotStreaming()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectAsync(ct);

        var results = await client.SendBatchAsync(
            [new ObsRequest("GetVersion"), new ObsRequest("GetStreamStatus"), new ObsRequest("NoSuchRequest")], cancellationToken: ct);
        var caption = await client.SendRequestAsync("SendStreamCaption", new JsonObject { ["captionText"] = "Hello" }, ct);

        await Poll.UntilAsync(() => client.Status.ObsVersion is not null, "the OBS version is known", ct);
        Assert.StartsWith("5.", client.Status.ObsWebSocketVersion, StringComparison.Ordinal);
        Assert.True(results[0].IsSuccess);
        Assert.False(results[1].Data.GetProperty("outputActive").GetBoolean());
        Assert.Equal(ObsStatusCode.UnknownRequestType, results[2].Code);
        Assert.Equal(ObsStatusCode.OutputNotRunning, caption.Code);
    }

    [Fact(Timeout = 120000)]
    public async Task Output_ObsKilledAndRestarted_ReconnectsAndCaptionAppearsAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var client = await ConnectAsync(ct);
        var pidFile = Path.Combine(PeerDir, "obs.pid");
        if (!File.Exists(pidFile) || Environment.GetEnvironmentVariable("OBS_PORT") is not null)
        {
            Peers.Missing("this test restarts OBS and needs the OBS started by scripts/obs-headless.sh (no OBS_PORT override)");
        }

        Directory.CreateDirectory(Path.Combine(RepoRoot, "artifacts", "obs"));
        await using var captions = NewOutput(client);
        captions.Start();
        captions.SetCaption("en", "before the crash", isFinal: true);
        await UntilTextAsync(client, "Captions (en)", "before the crash", ct);

        using (var obs = Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture)))
        {
            obs.Kill(); // SIGKILL
            await obs.WaitForExitAsync(ct);
        }

        await Poll.UntilAsync(() => !client.IsConnected, "the client noticed that OBS died", ct, timeoutMs: 10000);

        captions.SetCaption("en", "while OBS was down");
        captions.SetCaption("en", "after the crash", isFinal: true);
        var (code, stdout, stderr) = await Peers.RunAsync(Path.Combine(RepoRoot, "scripts", "obs-headless.sh"), ["start"],
            TimeSpan.FromSeconds(90), ct);
        Assert.True(code == 0, $"obs-headless.sh start failed: {stdout} {stderr}");
        var accepting = Stopwatch.StartNew();

        await UntilTextAsync(client, "Captions (en)", "after the crash", ct, timeoutMs: 20000);
        var measured = $"caption back in OBS {accepting.ElapsedMilliseconds} ms after the socket accepted again";
        output.WriteLine(measured);
        await File.WriteAllTextAsync(Path.Combine(RepoRoot, "artifacts", "obs", "reconnect.txt"), measured + "\n", ct);
        Assert.True(captions.Statistics.Dropped >= 1);
        Assert.Equal(2, client.Status.Connections);
    }
}
