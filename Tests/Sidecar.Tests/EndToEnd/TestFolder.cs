using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>A temporary folder for one end-to-end test, with the sidecar's transcript and data folders inside; deleted (best effort) at the end.</summary>
internal sealed class TestFolder(string prefix) : IDisposable
{
    /// <summary>The folder's path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Where the sidecar writes transcripts (<c>--transcript-dir</c>).</summary>
    public string Transcripts => System.IO.Path.Combine(Path, "transcripts");

    /// <summary>The sidecar's data folder (<c>--data-dir</c>: logs, control token, language choice).</summary>
    public string Data => System.IO.Path.Combine(Path, "data");

    /// <summary>
    /// Arguments that run the sidecar on <paramref name="input"/> against <paramref name="server"/>, writing into this
    /// folder, without OBS and on any free HTTP port; <paramref name="more"/> follow.
    /// </summary>
    public List<string> SidecarArgs(FakeRealtimeServer server, string input, params string[] more) =>
    [
        "--input", input, "--engine", "openai", "--api-key", "test-key",
        "--realtime-endpoint", server.Endpoint.ToString(), "--transcript-dir", Transcripts,
        "--data-dir", Data, "--no-obs", "--http-port", "0", .. more,
    ];

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that outlived its test may still hold a file; the system's temp cleaner gets it later.
        }
    }
}
