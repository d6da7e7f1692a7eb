using System.Net;
using System.Net.Sockets;

namespace CaptionSidecar.Tests.Support;

/// <summary>Facts about the machine and checkout a test runs in, shared by every test project.</summary>
public static class TestHost
{
    /// <summary>The repository root: the nearest folder above the test's output that holds CaptionSidecar.sln.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "CaptionSidecar.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException("CaptionSidecar.sln not found above the test folder.");
        }
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
