using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Features;

namespace Microsoft.Extensions.Hosting;

public static partial class Extensions
{
    /// <summary>
    /// Lets a request whose body is still arriving when shutdown begins finish instead of failing with 500.
    /// At shutdown Kestrel wakes every connection with a cancelled read; a reader of the request's
    /// <c>PipeReader</c> that has looked further than it consumed, as System.Text.Json does in the middle of
    /// a token, receives that cancellation as its own. Read through the request stream, as here, Kestrel
    /// absorbs it.
    /// </summary>
    private static void UseShutdownSafeRequestBodies(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                context.Features.Set<IRequestBodyPipeFeature>(new RequestBodyPipeFeature(context));
            }

            return next(context);
        });
    }
}
