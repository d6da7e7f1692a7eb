using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>
/// Debian's nginx as a reverse proxy in front of one relay, started by the test as the current user from a temporary
/// config (<c>nginx -c CONF -p PREFIX -g 'daemon off;'</c>): HTTP and the WebSocket upgrade, <c>X-Forwarded-For</c>
/// with the client's address. It connects to the relay from <see cref="ProxyAddress"/> (127.0.0.2), so the relay
/// tells the proxy apart from a client on 127.0.0.1.
/// </summary>
internal sealed class NginxProxy : IAsyncDisposable
{
    /// <summary>The address nginx connects to the relay from.</summary>
    public const string ProxyAddress = "127.0.0.2";

    private readonly Process _process;
    private readonly string _prefix;

    private NginxProxy(Process process, string prefix, Uri baseUri)
    {
        _process = process;
        _prefix = prefix;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>What nginx wrote to its error log (for failure messages).</summary>
    public string ErrorLog => File.Exists(Path.Combine(_prefix, "error.log")) ? File.ReadAllText(Path.Combine(_prefix, "error.log")) : string.Empty;

    public static async Task<NginxProxy> StartAsync(Uri relay, CancellationToken cancellationToken)
    {
        var nginx = Peers.FindExecutable("nginx") ?? Peers.FindExecutable("/usr/sbin/nginx") ?? Peers.RequireExecutable("nginx");
        var prefix = Path.Combine(Path.GetTempPath(), $"caption-nginx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(prefix, "tmp"));
        var port = FreePort();
        // As root, nginx would hand the work to "nobody", which cannot use this folder: the workers stay the current user.
        var user = Environment.UserName == "root" ? "user root;" : string.Empty;
        var config = string.Create(CultureInfo.InvariantCulture, $$"""
            {{user}}
            worker_processes 1;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/error.log warn;
            events { worker_connections 256; }
            http {
              access_log off;
              client_body_temp_path {{prefix}}/tmp/body;
              proxy_temp_path {{prefix}}/tmp/proxy;
              fastcgi_temp_path {{prefix}}/tmp/fastcgi;
              uwsgi_temp_path {{prefix}}/tmp/uwsgi;
              scgi_temp_path {{prefix}}/tmp/scgi;
              map $http_upgrade $connection_upgrade { default upgrade; '' close; }
              server {
                listen 127.0.0.1:{{port}};
                location / {
                  proxy_pass http://{{relay.Authority}};
                  proxy_bind {{ProxyAddress}};
                  proxy_http_version 1.1;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection $connection_upgrade;
                  proxy_set_header Host $host;
                  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                  proxy_read_timeout 1h;
                }
              }
            }
            """);
        var conf = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(conf, config, cancellationToken);
        var psi = new ProcessStartInfo(nginx) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "-c", conf, "-p", prefix, "-g", "daemon off;" })
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("nginx did not start");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var proxy = new NginxProxy(process, prefix, new Uri($"http://127.0.0.1:{port}"));
        await Poll.UntilAsync(
            async token =>
            {
                using var client = new TcpClient();
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, port, token);
                    return true;
                }
                catch (SocketException)
                {
                    return false;
                }
            },
            $"nginx listens on {port}",
            cancellationToken,
            failIf: () => process.HasExited ? $"nginx exited with {process.ExitCode}: {proxy.ErrorLog}" : null);
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
