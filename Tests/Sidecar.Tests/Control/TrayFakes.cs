using CaptionSidecar.YouTube;
using System.Collections.Concurrent;
using System.Threading.Channels;
using CaptionSidecar.Control;
using CaptionSidecar.Overlay;
using CaptionSidecar.Speakers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace CaptionSidecar.Tests.Control;

/// <summary>A control surface over a list of languages (and <see cref="Speakers"/>) that records every call.</summary>
internal sealed class FakeControlSurface(params LanguageState[] languages) : ISidecarControl
{
    private readonly Lock _gate = new();
    private readonly List<LanguageState> _languages = [.. languages];
    private readonly List<SpeakerStatus> _speakers = [];

    public ConcurrentQueue<(string Name, bool Captioned)> SpeakerChanges { get; } = new();

    /// <summary>The speakers <see cref="ReadSpeakers"/> returns (none unless a test adds some); also in the status made of the other properties.</summary>
    public IReadOnlyList<SpeakerStatus> Speakers
    {
        get
        {
            lock (_gate)
            {
                return [.. _speakers];
            }
        }

        init => _speakers.AddRange(value);
    }

    public ConcurrentQueue<(string Code, bool Enabled)> Toggles { get; } = new();

    public int Clears { get; private set; }

    public string ObsState { get; set; } = "connected";

    public IReadOnlyList<string> Errors { get; set; } = [];

    /// <summary>The whole status; when null, one made of <see cref="ObsState"/> and <see cref="Errors"/>.</summary>
    public ControlStatus? Status { get; set; }

    public ControlStatus ReadStatus() =>
        Status ?? new("test-pattern", 12, [], ObsState, null, 0, 0, [], Errors, Speakers: ReadSpeakers());

    public IReadOnlyList<SpeakerStatus> ReadSpeakers() => Speakers;

    public Task<YouTubeOutputStatus?> ChangeYouTubeAsync(YouTubeSettingsChange change, CancellationToken cancellationToken) =>
        Task.FromResult<YouTubeOutputStatus?>(null);

    public Task<SpeakerChange> ChangeSpeakerAsync(string name, bool captioned, CancellationToken cancellationToken)
    {
        SpeakerChanges.Enqueue((name, captioned));
        lock (_gate)
        {
            var index = _speakers.FindIndex(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                return Task.FromResult(SpeakerChange.Unknown);
            }

            _speakers[index] = _speakers[index] with { Captioned = captioned };
            return Task.FromResult(SpeakerChange.Applied);
        }
    }

    public IReadOnlyList<LanguageState> GetLanguages()
    {
        lock (_gate)
        {
            return [.. _languages];
        }
    }

    public Task<bool> SetLanguageEnabledAsync(string code, bool enabled, CancellationToken cancellationToken)
    {
        Toggles.Enqueue((code, enabled));
        lock (_gate)
        {
            var index = _languages.FindIndex(l => l.Code == code);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _languages[index] = _languages[index] with { Enabled = enabled };
            return Task.FromResult(true);
        }
    }

    public Task ClearCaptionsAsync(CancellationToken cancellationToken)
    {
        Clears++;
        return Task.CompletedTask;
    }

    public Task ShowTestCaptionAsync(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("The tray has no test-line item; nothing should call this.");
}

/// <summary>Records what the tray asked of the browser, the clipboard and the host.</summary>
internal sealed class FakeShellActions : ITrayShellActions
{
    public List<Uri> Opened { get; } = [];

    public List<string> Copied { get; } = [];

    public List<string> OpenedFolders { get; } = [];

    public int Quits { get; private set; }

    public void OpenUrl(Uri url) => Opened.Add(url);

    public void OpenFolder(string path) => OpenedFolders.Add(path);

    public void CopyToClipboard(string text) => Copied.Add(text);

    public void Quit() => Quits++;
}

/// <summary>A tray icon that records the models it was shown and lets a test click its items.</summary>
internal sealed class FakeTrayIcon(Func<string, Task> onClick) : ITrayIcon
{
    private readonly Channel<TrayMenuModel> _updates = Channel.CreateUnbounded<TrayMenuModel>();

    public TrayMenuModel? Shown { get; private set; }

    public ChannelReader<TrayMenuModel> Updates => _updates.Reader;

    public bool Disposed { get; private set; }

    public Task ClickAsync(string itemId) => onClick(itemId);

    public void Show(TrayMenuModel model) => Shown = model;

    public void Update(TrayMenuModel model) => _updates.Writer.TryWrite(model);

    public void CopyToClipboard(string text)
    {
    }

    public void Dispose() => Disposed = true;
}

/// <summary>Creates <see cref="FakeTrayIcon"/>s and keeps them.</summary>
internal sealed class FakeTrayIconFactory : ITrayIconFactory
{
    public List<FakeTrayIcon> Created { get; } = [];

    public ITrayIcon Create(Func<string, Task> onClick)
    {
        var icon = new FakeTrayIcon(onClick);
        Created.Add(icon);
        return icon;
    }
}

/// <summary>A host lifetime whose events the test fires.</summary>
internal sealed class FakeLifetime : IHostApplicationLifetime, IDisposable
{
    private readonly CancellationTokenSource _started = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _stopped = new();

    public CancellationToken ApplicationStarted => _started.Token;

    public CancellationToken ApplicationStopping => _stopping.Token;

    public CancellationToken ApplicationStopped => _stopped.Token;

    public int StopRequests { get; private set; }

    public void Start() => _started.Cancel();

    public void StopApplication() => StopRequests++;

    public void Dispose()
    {
        _started.Dispose();
        _stopping.Dispose();
        _stopped.Dispose();
    }
}

/// <summary>A server that says it listens on one address.</summary>
internal sealed class FakeServer : IServer
{
    public FakeServer(string address)
    {
        var addresses = new ServerAddressesFeature();
        addresses.Addresses.Add(address);
        Features.Set<IServerAddressesFeature>(addresses);
    }

    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }
}
