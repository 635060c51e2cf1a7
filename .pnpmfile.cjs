// pnpm hooks of the workspace.
//
// beforePacking: a published package (@bedrock-spend/sdk) bundles the workspace modules it
// imports into dist/ at build time (packages/sdk/scripts/build.mjs). It declares them as
// devDependencies, which are build inputs; the packed package.json leaves them out, since npm
// users could not resolve these workspace-only packages, and need not.
module.exports = {
  hooks: {
    beforePacking(pkg) {
      if (pkg.devDependencies) {
        for (const name of Object.keys(pkg.devDependencies)) if (name.startsWith("@bedrock-spend/")) delete pkg.devDependencies[name];
      }
      return pkg;
    },
  },
};
